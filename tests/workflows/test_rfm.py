"""RFM: values against hand counts and lifetimes, scores, and a grid that covers every customer once."""

import datetime as dtm
import itertools

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg import ColumnMapping
from custseg._errors import UsageError
from custseg._config import RFM_FEATURES, RunConfig, expand_feature_sets, preset
from custseg._prep._prepare import prepare
from custseg._prep._rfm_summary import rfm_summary
from custseg._workflows._rfm import fm_score, load_rfm_rules, rfm, rfm_scores, rfm_segment_table, rfm_segments
from custseg._schema import LANGUAGES

from shared_data import shared_file

AS_OF = dtm.date(2021, 2, 1)

# customer, order, day, quantity, price
TOY = [
    ("a", "o1", "2021-01-01", 1, 10.0),
    ("a", "o2", "2021-01-01", 2, 5.0),   # second order, same day: one purchase day for lifetimes
    ("a", "o3", "2021-01-11", 1, 30.0),
    ("a", "o4", "2021-01-21", 1, 50.0),
    ("b", "o5", "2021-01-15", 4, 2.5),
    ("c", "o6", "2021-01-05", 1, 100.0),
    ("c", "o7", "2021-01-30", 1, 20.0),
]


def toy_lines() -> ibis.Table:
    frame = pd.DataFrame(TOY, columns=["customer", "order", "date", "quantity", "price"])
    frame["date"] = pd.to_datetime(frame["date"])
    return ibis.memtable(frame)


def test_rfm_table_on_hand_counted_toy():
    table = rfm_summary(toy_lines(), AS_OF).set_index("customer")
    expected = pd.DataFrame({
        "RecencyDays": [11.0, 17.0, 2.0], "OrderCount": [4.0, 1.0, 2.0], "TotalSales": [100.0, 10.0, 120.0],
        "frequency": [2.0, 0.0, 1.0], "recency": [20.0, 0.0, 25.0], "T": [31.0, 17.0, 27.0],
        "monetary_value": [40.0, 0.0, 20.0],
    }, index=pd.Index(["a", "b", "c"], name="customer"))
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_dtype=False)


def test_lifetimes_columns_match_lifetimes_summary():
    utils = pytest.importorskip("lifetimes.utils", reason="lifetimes is not installed (pip install lifetimes)")
    frame = pd.DataFrame(TOY, columns=["customer", "order", "date", "quantity", "price"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["revenue"] = frame["quantity"] * frame["price"]
    theirs = utils.summary_data_from_transaction_data(frame, "customer", "date", monetary_value_col="revenue",
                                                      observation_period_end=pd.Timestamp(AS_OF), freq="D")
    ours = rfm_summary(toy_lines(), AS_OF).set_index("customer")
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[column].to_numpy(), theirs.loc[ours.index, column].to_numpy(), err_msg=column)


def test_quintile_scores_keep_ties_together_and_best_is_5():
    table = pd.DataFrame({"customer": [f"c{i}" for i in range(10)], "RecencyDays": np.arange(10.0),
                          "OrderCount": [1.0] * 6 + [2, 3, 4, 5], "TotalSales": np.arange(10.0) * 10})
    scores = rfm_scores(table)
    assert scores["R"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores["M"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # six tied single-order customers share their average rank (35th percentile), hence one score
    assert scores["F"].tolist() == [2] * 6 + [4, 4, 5, 5]
    assert scores["RFM"][0] == "521" and scores["FM"].tolist() == [2, 2, 2, 2, 3, 3, 4, 4, 5, 5]


def test_business_cut_points():
    table = pd.DataFrame({"customer": list("abcd"), "RecencyDays": [30.0, 31, 365, 400],
                          "OrderCount": [1.0, 2, 5, 20], "TotalSales": [0.0, 100, 99, 1000]})
    scores = rfm_scores(table, cuts={"R": [30, 90, 180, 365], "F": [2, 3, 5, 10], "M": [100, 200, 500, 1000]})
    assert scores["R"].tolist() == [5, 4, 2, 1]
    assert scores["F"].tolist() == [1, 2, 4, 5]
    assert scores["M"].tolist() == [1, 2, 1, 5]


@pytest.mark.parametrize("kwargs, message", [
    ({"bins": 1}, "'bins' parameter of rfm_scores must be int in [2, 10]"),
    ({"cuts": {"R": [90, 30, 180, 365]}}, "cut points for R must be 4 increasing numbers"),
    ({"cuts": {"X": [1]}}, "cut points are for R, F and M; got X"),
])
def test_score_errors(kwargs, message):
    table = pd.DataFrame({"customer": ["a"], "RecencyDays": [1.0], "OrderCount": [1.0], "TotalSales": [1.0]})
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rfm_scores(table, **kwargs)


def test_bundled_grid_covers_every_cell_exactly_once_with_texts_in_both_languages():
    rules = load_rfm_rules()
    cells = list(itertools.product(range(1, 6), range(1, 6)))
    assert sorted(rules["grid"]) == cells
    claimed = [(r, fm) for seg in rules["segment"] for cell in seg["cells"]
               for r in range(cell["r"][0], cell["r"][1] + 1) for fm in range(cell["fm"][0], cell["fm"][1] + 1)]
    assert sorted(claimed) == cells  # no cell claimed twice
    ids = [seg["id"] for seg in rules["segment"]]
    assert len(ids) == len(set(ids)) >= 9
    assert {"champions", "loyal", "potential_loyalists", "new", "promising", "need_attention", "about_to_sleep",
            "at_risk", "cant_lose", "hibernating", "lost"} <= set(ids)
    assert all(seg[key][lang] for seg in rules["segment"] for key in ("name", "description", "action") for lang in LANGUAGES)


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace('cells = [{ r = [1, 1], fm = [1, 1] }]', 'cells = []'), "no segment covers R=1, FM=1"),
    (lambda text: text.replace('cells = [{ r = [1, 1], fm = [1, 1] }]', 'cells = [{ r = [1, 2], fm = [1, 1] }]'),
     "cell R=2, FM=1 is claimed by both 'hibernating' and 'lost'"),
    (lambda text: text.replace('fr = "Perdus"', 'de = "Verloren"'), "segment 'lost' needs name/description/action"),
])
def test_broken_grids_are_refused_with_the_cell(tmp_path, edit, message):
    from importlib import resources

    text = resources.files("custseg").joinpath("data/rfm_segments.toml").read_text(encoding="utf-8")
    path = tmp_path / "grid.toml"
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_rfm_rules(path)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 30), st.floats(0, 1e5)), min_size=1, max_size=60),
       st.sampled_from([None, {"R": [30, 90, 180, 365]}]))
def test_every_customer_gets_exactly_one_segment(rows, cuts):
    table = pd.DataFrame(rows, columns=["RecencyDays", "OrderCount", "TotalSales"])
    table.insert(0, "customer", [f"c{i}" for i in range(len(rows))])
    segmented = rfm_segments(rfm_scores(table, cuts=cuts))
    assert len(segmented) == len(table) and segmented["rfm_segment"].notna().all()
    assert rfm_segment_table(segmented)["size"].sum() == len(table)


def test_fm_score_and_feature_set():
    assert fm_score(np.array([1, 1, 2, 5]), np.array([1, 2, 2, 4])).tolist() == [1, 2, 2, 5]
    assert expand_feature_sets(["rfm"]) == RFM_FEATURES


def test_rfm_on_renamed_columns(small_lines):
    mapping = ColumnMapping(customer="Client", order="Ligne", quantity="Qte", price="PU", date="Jour", date_format="%d/%m/%Y")
    result = rfm(small_lines, mapping=mapping)
    customers, summary, cleaning = result.customers, result.segments, result.cleaning
    assert len(customers) == 60 == cleaning["customers_kept"] and customers["customer"].is_unique
    assert summary["size"].sum() == 60


def test_rfm_on_online_retail_covers_every_customer_once_and_matches_lifetimes():
    prepared = prepare(shared_file("online_retail.csv"), RunConfig(mapping=preset("online-retail")))
    cleaning, lines, as_of = prepared.cleaning, prepared.lines, prepared.as_of
    values = rfm_summary(lines, as_of)
    customers = rfm_segments(rfm_scores(values))
    summary = rfm_segment_table(customers)
    assert len(customers) == cleaning["customers_kept"] == 4_339
    assert customers["customer"].is_unique and summary["size"].sum() == len(customers)
    assert (summary["size"] > 0).all()
    champions = summary.set_index("rfm_segment").loc["champions"]
    assert champions.revenue_share > 0.3  # the best-scored 15% bring a large share of revenue
    assert (values["T"] - values["recency"] == values["RecencyDays"]).all()
    utils = pytest.importorskip("lifetimes.utils", reason="lifetimes is not installed (pip install lifetimes)")
    transactions = lines.select("customer", "date", "quantity", "price").to_pandas()
    transactions["customer"] = transactions["customer"].astype(str)
    transactions["revenue"] = transactions["quantity"] * transactions["price"]
    theirs = utils.summary_data_from_transaction_data(transactions, "customer", "date", monetary_value_col="revenue",
                                                      observation_period_end=pd.Timestamp(as_of), freq="D")
    ours = values.set_index("customer")
    for column in ("frequency", "recency", "T", "monetary_value"):
        # atol: a purchase day netted to zero by its cancellation sums to 0 or to 1.8e-15, by summation order
        np.testing.assert_allclose(ours[column], theirs.loc[ours.index, column], rtol=1e-9, atol=1e-9, err_msg=column)


def test_rfm_is_a_feature_set_everywhere(small_lines):
    """`features=["rfm"]` means the same three features in segment, compare_methods and the TOML/CLI builder."""
    from custseg import build_run_config, compare_methods, segment

    mapping = ColumnMapping(customer="Client", order="Ligne", quantity="Qte", price="PU", date="Jour", date_format="%d/%m/%Y")
    result = segment(small_lines, mapping=mapping, features=["rfm"], k=3)
    assert result.features == list(RFM_FEATURES) and result.k == 3
    comparison = compare_methods(small_lines, mapping=mapping, features=["rfm", "AvgOrderValue"], methods=["kmeans"],
                                 k=3, n_boot=2, n_refs=2)
    assert comparison.info["features"] == [*RFM_FEATURES, "AvgOrderValue"]
    assert build_run_config(preset="online-retail", settings={"features": ["RFM"]}).features == RFM_FEATURES
