"""Segment profiles: levels, distinct names from the rules table, texts in both languages."""

from importlib import resources

import ibis
import numpy as np
import pandas as pd
import pytest

from custseg._i18n import format_value
from custseg._profile import load_rules, segment_profiles, top_products


def profiles_for(groups: list[tuple[float, float, float, int]]):
    """Customers in groups of (TotalSales, OrderCount, AvgOrderValue, size)."""
    rows, labels = [], []
    for label, (sales, orders, aov, size) in enumerate(groups):
        for i in range(size):
            rows.append({"TotalSales": sales * (1 + i / 1000), "OrderCount": orders, "AvgOrderValue": aov})
            labels.append(label)
    frame = pd.DataFrame(rows)
    labels = np.array(labels)
    names = list(frame.columns)
    z = (frame - frame.mean()) / frame.std()
    centers = np.array([z[labels == s].mean().to_numpy() for s in range(len(groups))])
    return segment_profiles(frame, labels, centers, names, load_rules(), "TotalSales")[0]


def test_rules_name_the_study_segments_in_both_languages():
    profiles = profiles_for([(50_000, 200, 250, 15), (500, 5, 100, 75), (5_000, 300, 60, 10)])
    by_id = profiles.set_index("segment_id")
    assert by_id.loc[1, "name_en"] == "Key accounts" and by_id.loc[1, "name_fr"] == "Comptes clés"
    # revenue (sales x (size + size(size - 1) / 2000)) 755,250 + 38,887.5 + 50,225: segment 1 brings 89.4% with 15%
    # of the customers
    assert by_id.loc[1, "revenue_lift"] == pytest.approx(by_id.loc[1, "revenue_share"] / 0.15)
    assert by_id.loc[1, "revenue_share"] == pytest.approx(755_250 / 844_362.5)
    assert by_id.loc[1, "name_rule"] == "rule:key_accounts_no_recency"  # no dates: no recency
    assert by_id.loc[2, "name_en"] == "Small occasional customers"
    # segment 3's median spend is at the 80th percentile ("very high") but it brings 6% of the revenue
    # with 10% of the customers: not a key account, not a loyal high spender; its baskets are the smallest
    assert by_id.loc[3, "percentile_TotalSales"] == pytest.approx(0.8) and by_id.loc[3, "level_TotalSales"] == "very high"
    assert by_id.loc[3, "name_rule"] == "rule:frequent_small_baskets"
    assert by_id.loc[1, "size"] == 15 and by_id.loc[1, "customer_share"] == pytest.approx(15 / 100)
    assert by_id["revenue_share"].sum() == pytest.approx(1.0)
    assert by_id.loc[2, "level_TotalSales"] == "low"  # 75 of 100 customers: its median at the 37.5th percentile
    assert "de clients" not in by_id.loc[1, "description_fr"] and "des clients" in by_id.loc[1, "description_fr"]
    assert by_id.loc[1, "median_OrderCount"] == 200
    # the defining sentence: the segment's medians of the (at most 4) clustered features in run order, the same
    # order on every row, in business words, written as the report's cards write them (median spend 500 x 1.037)
    assert by_id.loc[2, "summary_en"] == "Typical customer (medians): spend 518.5, 5 orders, average order 100."
    assert by_id.loc[2, "summary_fr"] == ("Client typique (médianes) : chiffre d'affaires de 518,5, 5 commandes, "
                                          "panier moyen de 100.")
    assert by_id["summary_en"].str.match(r"Typical customer \(medians\): spend [\d,.]+, \d+ orders, average order").all()
    spend = format_value(by_id.loc[1, "median_TotalSales"], "en")  # as the report's cards write it
    assert by_id.loc[1, "summary_en"] == f"Typical customer (medians): spend {spend}, 200 orders, average order 250."


def test_siblings_are_named_by_what_separates_them():
    # two groups of small occasional customers, one with the largest baskets, one with the smallest
    profiles = profiles_for([(100_000, 400, 250, 10), (5_000, 50, 100, 40), (300, 3, 400, 25), (200, 3, 60, 25)])
    assert profiles["name_en"].tolist()[2:] == ["Small occasional customers – very high average order value",
                                                "Small occasional customers – very low average order value"]
    assert profiles.loc[2, "name_fr"] == "Petits clients occasionnels – panier moyen très élevé"
    assert profiles["name_rule"].tolist()[2:] == ["rule:small_customers + level:AvgOrderValue"] * 2
    assert profiles["action_rule"].tolist()[2:] == ["rule:small_customers + trait:basket_high@AvgOrderValue",
                                                    "rule:small_customers + trait:basket_low@AvgOrderValue"]
    for column in ("name_en", "description_en", "action_en", "name_fr", "description_fr", "action_fr"):
        assert profiles[column].is_unique, column
    assert ("Set apart from the other “Small occasional customers” segments by very low average order value"
            in profiles.loc[3, "description_en"])


def test_fallback_names_use_the_distinctive_features():
    frame = pd.DataFrame({"BALANCE": [1.0, 2, 3, 100, 110, 120], "TENURE": [12.0, 12, 11, 6, 7, 6]})
    labels = np.array([0, 0, 0, 1, 1, 1])
    z = ((frame - frame.mean()) / frame.std()).to_numpy()
    centers = np.array([z[labels == s].mean(axis=0) for s in (0, 1)])
    profiles, texts = segment_profiles(frame, labels, centers, ["BALANCE", "TENURE"], load_rules(), None)
    # traits are listed by |v-test| (issue 13): TENURE's ties make its rank deviation the larger one
    assert texts[1]["description"]["en"] == "Customers with very low tenure, high balance."
    # segment 1's medians: BALANCE 110 (75th percentile: high), TENURE 6 (17th: very low)
    assert profiles.loc[1, "name_en"] == "Very low tenure, high balance"
    assert profiles.loc[1, "name_fr"] == "Niveau de tenure très bas, niveau de balance élevé"
    assert profiles.loc[1, "name_rule"] == "levels:TENURE;BALANCE"
    assert profiles.loc[1, "summary_en"] == "Typical customer (medians): balance 110, tenure 6."  # run order
    assert np.isnan(profiles.loc[0, "revenue_share"]) and np.isnan(profiles.loc[0, "revenue_lift"])
    # the action comes from the trait rules keyed on the significant features, not the generic sentence
    assert texts[1]["action"]["en"].startswith("New customers: an onboarding sequence")
    assert profiles.loc[1, "action_rule"] == "trait:tenure_low@TENURE"
    assert profiles["action_en"].is_unique and "Review this segment" not in " ".join(profiles["action_en"])
    assert profiles.loc[1, "features_by_vtest"] == "TENURE (-2.0); BALANCE (+2.0)"
    assert profiles.loc[1, "pvalue_BALANCE"] < 0.05


def test_a_user_rules_file_replaces_the_wording(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(resources.files("custseg").joinpath("data/segment_rules.toml")
                     .read_text(encoding="utf-8").replace('en = "Key accounts"', 'en = "Top clients"'), encoding="utf-8")
    assert load_rules(rules)["rule"][0]["name"]["en"] == "Top clients"


def test_top_products_revenue_share_and_lift():
    lines = ibis.memtable(pd.DataFrame({
        "customer": ["a", "a", "b", "c"], "product": ["x", "y", "x", "z"], "product_label": ["X", "Y", "X", "Z"],
        "quantity": [1.0, 1.0, 2.0, 1.0], "price": [30.0, 10.0, 10.0, 60.0],
    }))
    segments = pd.DataFrame({"customer": ["a", "b", "c"], "segment_id": [1, 1, 2]})
    top = top_products(lines, segments)
    first = top[top.segment_id == 1].set_index("product")
    # segment 1: x = 30 + 20 = 50 of 60; whole base: x = 50 of 120
    assert first.loc["x", "revenue"] == 50 and first.loc["x", "share"] == pytest.approx(50 / 60)
    assert first.loc["x", "lift"] == pytest.approx((50 / 60) / (50 / 120))
    assert first.loc["x", "rank"] == 1 and first.loc["x", "label"] == "X"
    assert top[top.segment_id == 2]["product"].tolist() == ["z"]


def test_labels_name_columns_and_insignificant_deviations_are_average():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"PURCHASES_FREQUENCY": np.r_[rng.uniform(0.8, 1, 200), rng.uniform(0, 0.2, 200)],
                          "NOISE": rng.normal(size=400)})
    labels = np.repeat([0, 1], 200)
    z = ((frame - frame.mean()) / frame.std()).to_numpy()
    centers = np.array([z[labels == s].mean(axis=0) for s in (0, 1)])
    given = {"PURCHASES_FREQUENCY": {"en": "purchase frequency", "fr": "fréquence d'achat"}}
    profiles, _ = segment_profiles(frame, labels, centers, list(frame.columns), load_rules(), None,
                                   feature_labels=given, model_values=z, ids=np.array([f"c{i:03d}" for i in range(400)]))
    assert profiles["name_en"].tolist() == ["High purchase frequency", "Low purchase frequency"]  # medians at 75th, 25th
    assert profiles.loc[0, "name_fr"] == "Niveau de fréquence d'achat élevé"  # the user's words: no known gender
    assert (profiles["level_NOISE"] == "average").all() and (profiles["pvalue_NOISE"] >= 0.05).all()
    assert profiles["action_en"].is_unique and profiles["description_en"].is_unique
    typical = profiles.loc[0, "paragons"].split()
    assert len(typical) == 5 and all(int(c[1:]) < 200 for c in typical)
    assert len(profiles.loc[1, "most_distinct"].split()) == 5


def test_with_many_features_the_defining_sentence_starts_with_what_the_name_speaks_of():
    # five features; frequent small-basket buyers whose baskets are their weakest deviation (online_retail):
    # the sentence gives the number of orders and the average order (the name's words), then the most defining
    rng = np.random.default_rng(5)
    parts = []
    for orders, (low, high), products, units in ((20, (30, 55), 60, 400), (5, (45, 70), 12, 60), (3, (40, 60), 8, 30)):
        basket = rng.uniform(low, high, 100)
        parts.append(pd.DataFrame({"TotalSales": basket * orders * rng.uniform(0.9, 1.1, 100),
                                   "OrderCount": orders + rng.integers(0, 3, 100), "AvgOrderValue": basket,
                                   "ProductCount": products + rng.integers(0, 5, 100), "Units": units + rng.integers(0, 20, 100)}))
    frame, labels = pd.concat(parts, ignore_index=True), np.repeat([0, 1, 2], 100)
    z = ((frame - frame.mean()) / frame.std()).to_numpy()
    centers = np.array([z[labels == s].mean(axis=0) for s in range(3)])
    profiles, _ = segment_profiles(frame, labels, centers, list(frame.columns), load_rules(), None)
    row = profiles.loc[0]
    assert row["name_rule"] == "rule:frequent_small_baskets"
    assert row["features_by_vtest"].startswith("OrderCount") and row["features_by_vtest"].split("; ")[-1].startswith("AvgOrderValue")
    top = row["features_by_vtest"].split("; ")[1].split(" ")[0]
    shown = {f: format_value(row[f"median_{f}"], "en") for f in ("OrderCount", "AvgOrderValue")}
    assert row["summary_en"].startswith(f"Typical customer (medians): {shown['OrderCount']} orders, "
                                        f"average order {shown['AvgOrderValue']}, ")
    assert row["summary_en"].count(", ") == 2 and format_value(row[f"median_{top}"], "en") in row["summary_en"]
