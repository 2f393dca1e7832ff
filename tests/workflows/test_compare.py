"""compare_methods and the rfm / compare-methods commands: known structure, outputs, one-line errors."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from typer.testing import CliRunner

from custseg import ColumnMapping
from custseg._cli._methods import app
from custseg._workflows._compare import compare_methods, dendrogram_data, weighted_onehot

from shared_data import shared_file

runner = CliRunner()
MAPPING = ColumnMapping(customer="Client", order="Ligne", product="Article", quantity="Qte", price="PU", date="Jour",
                        date_format="%d/%m/%Y")
LINE_OPTIONS = ["--customer", "Client", "--order", "Ligne", "--quantity", "Qte", "--price", "PU", "--date", "Jour",
                "--date-format", "%d/%m/%Y"]


def blob_customers(with_category: bool = False) -> pd.DataFrame:
    X, y = make_blobs(n_samples=240, centers=[[0, 0], [8, 0], [4, 7]], cluster_std=0.8, random_state=3)
    frame = pd.DataFrame({"CustomerRef": [f"K{i:04d}" for i in range(len(X))], "spend": X[:, 0], "visits": X[:, 1],
                          "group": y})
    if with_category:
        frame["channel"] = np.where(y == 0, "shop", "web")
    return frame


def test_methods_agree_on_three_clear_behaviours(small_lines):
    result = compare_methods(small_lines, mapping=MAPPING, features=["TotalSales", "OrderCount", "RecencyDays"],
                             k_range=(2, 5), n_boot=2, n_refs=2)
    table = result.table.set_index("method")
    assert list(table.index) == ["kmeans", "ward", "gmm", "rfm"]
    assert (table.loc[["kmeans", "ward", "gmm"], "k"] == 3).all() and result.info["k"] == 3
    assert result.agreement.loc["kmeans", "ward"] == pytest.approx(1.0)
    assert result.agreement.loc["kmeans", "gmm"] == pytest.approx(1.0)
    assert table.loc["rfm", "preferred_by"] == "rules table" and table.loc["rfm", "k"] >= 2
    assert {"stability_ari", "gap", "gap_se", "gap_choice"} <= set(result.k_selection.columns)
    assert result.recommendation["method"] in table.index
    assert result.recommendation["en"].startswith(result.recommendation["method"] + ":")
    assert "silhouette" in result.recommendation["fr"]
    assert result.labels.shape == (60, 5) and result.labels["customer_id"].is_unique
    assert result.dendrogram["k"] == 3 and len(result.dendrogram["leaves"]) <= 30


def test_customer_table_with_a_category_one_hot_and_kprototypes():
    frame = blob_customers(with_category=True).drop(columns="group")
    onehot = compare_methods(frame, customers=True, id_column="CustomerRef", categorical="onehot",
                             categorical_weight=0.5, methods=["kmeans"], k=3, n_boot=2, n_refs=2)
    assert onehot.info["features"][-2:] == ["channel=shop", "channel=web"]
    assert onehot.info["cleaning"]["categorical"]["weight"] == 0.5
    proto = compare_methods(frame, customers=True, id_column="CustomerRef", categorical="kprototypes",
                            methods=["kmeans", "minibatch"], k=3, n_boot=2, n_refs=2)
    table = proto.table.set_index("method")
    assert list(table.index) == ["kmeans", "minibatch", "kprototypes"]
    assert proto.agreement.loc["kmeans", "kprototypes"] > 0.95
    assert "rfm" not in table.index


def test_rfm_is_skipped_on_customer_tables_with_a_note():
    frame = blob_customers().drop(columns="group")
    result = compare_methods(frame, customers=True, id_column="CustomerRef", k=3, n_boot=2, n_refs=2,
                             methods=["kmeans", "rfm"], k_range=(2, 10))  # the range before issue 13
    assert result.table.method.tolist() == ["kmeans"]
    assert result.info["notes"] == ["rfm skipped: RFM needs sales lines with dates"]
    assert result.info["k_reason_en"] == "k=3 was set by the user (K-means' rule would choose k=3)."
    assert result.k_selection.k.tolist() == list(range(2, 11))  # the choice-of-k table still covers the range
    assert result.table.preferred_k.tolist() == [3]


def test_weighted_onehot_and_dendrogram_data():
    assert weighted_onehot(pd.DataFrame({"g": ["a", "b", "a"]}), 2.0).to_numpy().tolist() == [[2, 0], [0, 2], [2, 0]]
    from scipy.cluster.hierarchy import linkage

    tree = linkage(np.array([[0.0], [1.0], [10.0], [11.0]]), method="ward")
    dendro = dendrogram_data(tree, 2)
    assert tree[-2, 2] < dendro["cut_height"] < tree[-1, 2] and dendro["n_sampled"] == 4


def test_unknown_method_is_refused(small_lines):
    from custseg._errors import UsageError

    with pytest.raises(UsageError, match="methods must be among kmeans, ward, gmm, minibatch, rfm; got dbscan"):
        compare_methods(small_lines, mapping=MAPPING, methods=["dbscan"])


def test_every_command_has_help():
    for command in app.registered_commands:
        assert command.callback.__doc__, command.name


def test_cli_rfm_writes_outputs(tmp_path, small_lines):
    data = tmp_path / "lines.csv"
    small_lines.to_csv(data, index=False)
    result = runner.invoke(app, ["rfm", str(data), *LINE_OPTIONS, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    customers = pd.read_csv(tmp_path / "out" / "rfm_customers.csv")
    assert len(customers) == 60 and customers.customer_id.is_unique
    info = json.loads((tmp_path / "out" / "rfm.json").read_text())
    assert info["each_customer_once"] and info["n_customers"] == 60
    assert "RFM segments of 60 customers" in result.output


@pytest.mark.parametrize("extra, message", [
    (["--r-cuts", "a,b"], "Error: --r-cuts must be comma-separated numbers like 30,90,180,365; got 'a,b'"),
    (["--bins", "4"], "Error: bins=4 does not match the RFM rules grid (scale=5)"),
    (["--as-of", "2021-13-01"], "Error: --as-of must be a date like 2021-01-01; got '2021-13-01'"),
])
def test_cli_rfm_errors_are_one_line(tmp_path, small_lines, extra, message):
    data = tmp_path / "lines.csv"
    small_lines.to_csv(data, index=False)
    result = runner.invoke(app, ["rfm", str(data), *LINE_OPTIONS, "-o", str(tmp_path / "out"), *extra])
    assert result.exit_code == 2
    assert result.output.strip().replace("\n", " ") == message


def test_cli_compare_methods_on_sales_lines_with_rfm(tmp_path, small_lines):
    data = tmp_path / "lines.csv"
    small_lines.to_csv(data, index=False)
    result = runner.invoke(app, ["compare-methods", str(data), *LINE_OPTIONS, "--features", "rfm", "--k-range", "2..4",
                                 "--n-boot", "2", "-o", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert table.method.tolist() == ["kmeans", "ward", "gmm", "rfm"]
    assert json.loads((tmp_path / "cmp" / "comparison.json").read_text())["info"]["features"] == [
        "RecencyDays", "OrderCount", "TotalSales"]


def test_cli_compare_methods_writes_outputs(tmp_path):
    data = tmp_path / "customers.csv"
    blob_customers().drop(columns="group").to_csv(data, index=False)
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare-methods", str(data), "--customers", "--id", "CustomerRef", "--k-range", "2..4",
                                 "--n-boot", "2", "--methods", "kmeans,ward,gmm", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"comparison.csv", "agreement.csv", "labels.csv", "k_selection.csv",
                                               "comparison.json", "dendrogram.html"}
    table = pd.read_csv(out / "comparison.csv")
    assert table.method.tolist() == ["kmeans", "ward", "gmm"] and (table.k == 3).all()
    assert json.loads((out / "comparison.json").read_text())["recommendation"]["method"] in table.method.tolist()


def test_compare_methods_on_cc_general():
    result = compare_methods(shared_file("cc_general.csv"), customers=True, id_column="CUST_ID", k_range=(2, 4),
                             methods=["kmeans", "gmm"], n_boot=2, n_refs=2)
    assert result.info["n_customers"] == 8_950
    assert result.table.stability_ari.between(-1, 1).all() and result.labels.shape == (8_950, 3)
