"""Write custseg's model units (the scaled feature matrix K-means sees) of the reference datasets, and custseg's
K-means labels for k = 2..9 (n_init 10, seed 42, as a run fits them), to CSV files for the R scripts beside this
file (nbclust.R, clusterboot.R) to read; the labels are kept as test data (labels/NAME.csv.gz).

Run: PYTHONPATH=src python tests/cluster/reference/export_units.py OUT_FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from custseg._cluster import Scaler
from custseg._cluster._segmenter import _fit_kmeans
from custseg._config import config_from_options
from custseg._prep._prepare import prepare
from custseg._workflows._demo_data import write_cpq_export

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
WHOLESALE_SPEND = ("Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen")
SEED, N_INIT, LABEL_KS = 42, 10, range(2, 10)
CASES = {
    "online_retail": ("online_retail.csv", {"preset": "online-retail"}),
    "wholesale_spend": ("wholesale_customers.csv", {"customers": True, "columns": WHOLESALE_SPEND}),
    "wholesale_all": ("wholesale_customers.csv", {"customers": True}),
    "cc_general": ("cc_general.csv", {"customers": True, "id_column": "CUST_ID"}),
    "mall": ("mall_customers.csv", {"customers": True, "id_column": "CustomerID"}),
    "demo": (None, {"preset": "salesforce-cpq", "seed": 42}),
}


def model_units(path, options: dict) -> pd.DataFrame:
    """The scaled matrix `fit_model` clusters (same scaler and indicator columns)."""
    config = config_from_options(None, options)
    prepared = prepare(path, config)
    one_hot = {c for cols in (prepared.cleaning.get("preparation") or {}).get("one_hot", {}).values() for c in cols}
    indicators = tuple(j for j, name in enumerate(prepared.names) if name in one_hot)
    Z = Scaler(config.scaling, indicators, config.categorical_weight).fit_transform(prepared.X, prepared.ids)
    return pd.DataFrame(Z, columns=prepared.names)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (file, options) in CASES.items():
        path = DATA / file if file else out / "demo_export.csv"
        if file is None:
            write_cpq_export(path, seed=42)
        units = model_units(path, options)
        units.to_csv(out / f"{name}.csv", index=False, float_format="%.17g")
        Z = units.to_numpy()
        labels = pd.DataFrame({f"k{k}": _fit_kmeans(Z, k, N_INIT, SEED).labels_ + 1 for k in LABEL_KS})
        labels.to_csv(out / f"{name}_labels.csv.gz", index=False)
        print(name, "written")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
