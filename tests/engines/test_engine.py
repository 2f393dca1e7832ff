"""Engine plumbing and the speed paths: each fast path gives the numbers of the slow one."""

import ibis
import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from custseg import ColumnMapping, UsageError
from custseg._prep._clean import clean_lines
from custseg._cluster._algorithms import KMEANS_MAX_ITER, KMEANS_TOL
from custseg._cluster._segmenter import Segmenter
from custseg._config._run import RunConfig
from custseg._config._options import check_engine, parse_spark_conf
from custseg._engines._connect import duckdb_column, strptime_to_java
from custseg._prep._features import customer_features
from custseg._prep._parse import typed_lines
from shared_data import shared_file

MAPPING = ColumnMapping(customer="Client", order="Ligne", product="Article", quantity="Qte", price="PU", date="Jour",
                        date_format="%d/%m/%Y", cancellations="drop")
NAMES = ["TotalSales", "OrderCount", "AvgOrderValue", "RecencyDays", "TenureDays", "ProductCount", "LineCount", "Units"]


@pytest.mark.parametrize("fmt, java", [
    ("%d/%m/%Y", "dd/MM/yyyy"),
    ("%Y-%m-%dT%H:%M:%S.%f", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"),
    ("%d %b %Y %I:%M %p", "dd MMM yyyy hh:mm a"),
])
def test_strptime_formats_become_java_patterns(fmt, java):
    assert strptime_to_java(fmt) == java


def test_engine_options_are_checked():
    with pytest.raises(UsageError, match="engine must be one of duckdb, spark; got 'polars'"):
        check_engine("polars")
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_spark_conf(["spark.driver.memory"])
    config = RunConfig(mapping=MAPPING, engine="spark", spark_conf=("spark.executor.cores=2", "a.b = c"))
    assert config.spark_conf == (("spark.executor.cores", "2"), ("a.b", "c"))
    assert config.to_dict()["engine"] == "spark"


def _clean(frame: pd.DataFrame, mapping: ColumnMapping = MAPPING):
    con = ibis.duckdb.connect()
    lines, _ = typed_lines(con.create_table("t", frame), mapping, "t")
    facts = {}
    kept, summary = clean_lines(lines, mapping, "t", facts=facts)
    return kept, summary, facts


def _lines(n_customers: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for i in range(int(rng.integers(1, 9))):
            rows.append({"Client": f"C{c:03d}", "Ligne": f"L{c:03d}-{i}", "Article": f"P{rng.integers(5)}",
                         "Qte": float(rng.integers(-1, 4)), "PU": float(rng.integers(1, 50)),
                         "Jour": f"{rng.integers(1, 29):02d}/0{rng.integers(1, 10)}/2021"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("cancellations", ["drop", "net", "signed"])
def test_unique_line_ids_skip_the_distinct_and_count_lines_as_orders(cancellations):
    frame = _lines()
    kept, summary, facts = _clean(frame, MAPPING.with_overrides(cancellations=cancellations))
    assert facts == {"order_unique": True} and summary["dropped"]["duplicate_line"] == 0
    fast = customer_features(kept, NAMES, pd.Timestamp("2021-10-01").date(), order_unique=True)
    slow = customer_features(kept, NAMES, pd.Timestamp("2021-10-01").date(), order_unique=False)
    pd.testing.assert_frame_equal(fast, slow)


def test_repeated_line_ids_take_the_distinct_path():
    frame = _lines()
    doubled = pd.concat([frame, frame.iloc[:5]], ignore_index=True)  # 5 exact duplicate lines
    shared = frame.assign(Ligne=frame["Ligne"].str.split("-").str[0])  # one order id per customer
    _, summary, facts = _clean(doubled)
    assert not facts["order_unique"]
    assert summary["dropped"]["duplicate_line"] == int((doubled.iloc[:5]["Qte"] > 0).sum())
    kept, summary, facts = _clean(shared)
    assert not facts["order_unique"] and summary["dropped"]["duplicate_line"] == 0
    got = customer_features(kept, ["OrderCount"], None).set_index("customer")["OrderCount"]
    assert (got == 1).all()


def test_k_means_side_by_side_equals_one_fit_at_a_time():
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 1, (300, 3)), rng.normal(6, 1, (300, 3)), rng.normal((0, 8, 0), 1, (300, 3))]
    model = Segmenter(k_range=(2, 6), n_init=4, random_state=7).fit(X)
    for row in model.k_selection_.itertuples():
        alone = KMeans(n_clusters=row.k, n_init=4, random_state=7, tol=KMEANS_TOL, max_iter=KMEANS_MAX_ITER).fit(X)
        assert row.inertia == pytest.approx(alone.inertia_, rel=1e-12)
    assert model.k_ == 3


def test_duckdb_column_is_the_querys_column_with_its_in_memory_tables_registered():
    """The order-id hashes' path: one numpy array, the values Arrow gives, from a query that names an in-memory
    table no query has run yet (ibis registers those when it executes; raw SQL alone would not find it)."""
    lines = ibis.duckdb.connect().read_csv(shared_file("online_retail.csv"))
    countries = ibis.memtable({"Country": ["France", "Germany"], "zone": ["FR", "DE"]})
    joined = lines.inner_join(countries, "Country")
    hashes = joined.select(h=(joined.InvoiceNo.cast("string") + joined.zone).hash()).order_by("h")
    values = duckdb_column(hashes)
    assert isinstance(values, np.ndarray) and values.flags.writeable  # sorted in place by the caller
    expected = hashes.to_pyarrow()["h"].to_numpy()
    assert len(values) == len(expected) == int(lines.Country.isin(["France", "Germany"]).sum().execute()) > 10_000
    np.testing.assert_array_equal(values, expected)
    assert len(duckdb_column(hashes.filter(hashes.h < 0).limit(0))) == 0
    with pytest.raises(ValueError, match="column 'x' has NULLs"):
        duckdb_column(lines.select(x=ibis.ifelse(lines.Quantity > 0, lines.Quantity, ibis.null("int64"))))
