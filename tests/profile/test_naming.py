"""Names, descriptions and actions from the rules table: each given only when its conditions hold."""

import math
import re

import pytest

from custseg import UsageError
from custseg._profile import load_rules, name_segments
from custseg._profile._rules import parse_condition, rule_holds

RULES = load_rules()
BASE = {"TotalSales": "average", "OrderCount": "average", "AvgOrderValue": "average", "RecencyDays": "average"}
MIDDLE = {"very low": 0.1, "low": 0.3, "average": 0.5, "high": 0.7, "very high": 0.9}  # a percentile in each band


def middles(levels: list[dict]) -> list[dict]:
    """Percentiles of the medians: the middle of each level's band."""
    return [{f: MIDDLE[word] for f, word in lv.items()} for lv in levels]


def shares(customer_share: float, lift: float) -> dict:
    return {"customer_share": customer_share, "revenue_share": customer_share * lift, "revenue_lift": lift}


def named(*segments: tuple[dict, dict]) -> list[dict]:
    """Texts of segments given as (levels over BASE, shares); v-tests: +-3 on non-average levels, in order."""
    levels = [BASE | given for given, _ in segments]
    v = [{f: (3.0 - 0.1 * j) * (1 if "high" in lv[f] else -1 if "low" in lv[f] else 0) for j, f in enumerate(lv)}
         for lv in levels]
    return name_segments(levels, v, middles(levels), [s for _, s in segments], RULES)


@pytest.mark.parametrize(("levels", "segment_shares", "rule"), [
    ({"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"}, shares(0.10, 3.0), "rule:key_accounts"),
    # a named account manager for 30% of the accounts is a false promise: loyal high spenders instead
    ({"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"}, shares(0.30, 3.0), "rule:loyal_high_spenders"),
    # revenue share not twice the customer share
    ({"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"}, shares(0.10, 1.5), "rule:loyal_high_spenders"),
    ({"TotalSales": "high", "OrderCount": "high"}, shares(0.10, 3.0), "rule:loyal_high_spenders"),
    ({"TotalSales": "high", "OrderCount": "high"}, shares(0.10, 0.9), "levels:TotalSales;OrderCount"),
    ({"TotalSales": "high", "RecencyDays": "very high"}, shares(0.10, 1.2), "rule:at_risk_valuable"),
    ({"TotalSales": "high", "RecencyDays": "very high"}, shares(0.10, 0.8), "rule:lapsed"),
    ({"OrderCount": "very high", "AvgOrderValue": "low"}, shares(0.10, 0.5), "rule:frequent_small_baskets"),
    ({"OrderCount": "low", "AvgOrderValue": "very high", "TotalSales": "average"}, shares(0.10, 0.6),
     "rule:big_ticket_occasional"),
    # "occasional big-ticket buyers" bringing 1% of revenue for 14.7% of customers: small customers
    ({"OrderCount": "very low", "AvgOrderValue": "high", "TotalSales": "low"}, shares(0.147, 0.07), "rule:small_customers"),
    ({"TotalSales": "high", "AvgOrderValue": "high"}, shares(0.10, 1.2), "rule:premium"),
    # online_retail's "premium buyers": 12.3% of customers, 11.4% of revenue: they do not bring their weight
    ({"TotalSales": "high", "AvgOrderValue": "very high"}, shares(0.123, 0.93), "levels:TotalSales;AvgOrderValue"),
    ({"TotalSales": "average", "OrderCount": "high"}, shares(0.10, 0.8), "rule:mid_range"),
    ({"TotalSales": "low", "OrderCount": "average"}, shares(0.10, 0.8), "levels:TotalSales"),
])
def test_each_rule_names_only_segments_meeting_its_conditions(levels, segment_shares, rule):
    texts = named((levels, segment_shares))
    assert texts[0]["name_rule"] == rule


def test_rules_with_share_conditions_never_name_segments_without_revenue():
    nan = float("nan")
    texts = named(({"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"},
                   {"customer_share": 0.1, "revenue_share": nan, "revenue_lift": nan}))
    assert texts[0]["name_rule"] == "levels:TotalSales;OrderCount"
    assert texts[0]["name"] == {"en": "Very high spend, high number of orders",
                                "fr": "Chiffre d'affaires très élevé, nombre de commandes élevé"}


def test_an_action_is_only_given_to_a_segment_whose_own_level_holds():
    # two key-account segments, told apart by their baskets: only the high one is offered
    # volume deals on its big orders; the average one, with no other feature outside its rule,
    # is told to tailor the offer to that difference
    key = {"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"}
    texts = named((key | {"AvgOrderValue": "high"}, shares(0.1, 4.0)), (key, shares(0.1, 3.0)))
    assert [t["name"]["en"] for t in texts] == ["Key accounts – high average order value",
                                                "Key accounts – mid-range average order value"]
    assert texts[1]["name"]["fr"] == "Comptes clés – panier moyen dans la moyenne"
    assert [t["action_rule"] for t in texts] == ["rule:key_accounts + trait:basket_high@AvgOrderValue",
                                                 "rule:key_accounts + sibling:AvgOrderValue"]
    assert "volume deals on their big orders" in texts[0]["action"]["en"]
    assert "big orders" not in texts[1]["action"]["en"]
    assert texts[1]["action"]["en"].endswith("Tailor the offer to what sets them apart: their mid-range average order value.")
    assert texts[1]["action"]["fr"].endswith("Adapter l'offre à ce qui les distingue : leur panier moyen dans la moyenne.")


def test_siblings_with_the_same_levels_are_told_apart_by_rank_in_words():
    key = {"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"}
    levels = [BASE | key, BASE | key]
    v = [{"TotalSales": 9.0, "OrderCount": 4.0, "AvgOrderValue": 0.5, "RecencyDays": -3.0},
         {"TotalSales": 5.0, "OrderCount": 4.2, "AvgOrderValue": 0.4, "RecencyDays": -3.1}]
    texts = name_segments(levels, v, middles(levels), [shares(0.1, 4.0), shares(0.1, 3.0)], RULES)
    assert [t["name"]["en"] for t in texts] == ["Key accounts – higher spend", "Key accounts – lower spend"]
    assert [t["name"]["fr"] for t in texts] == ["Comptes clés – chiffre d'affaires plus élevé",
                                                "Comptes clés – chiffre d'affaires plus bas"]
    assert all(t["name_rule"] == "rule:key_accounts + rank:TotalSales" for t in texts)


def test_fallback_names_and_actions_state_the_segments_own_levels():
    levels = [{"BALANCE": "very high", "PURCHASES_FREQUENCY": "low", "TENURE": "average"},
              {"BALANCE": "low", "PURCHASES_FREQUENCY": "very high", "TENURE": "average"},
              {"BALANCE": "average", "PURCHASES_FREQUENCY": "average", "TENURE": "average"}]
    v = [{"BALANCE": 8.0, "PURCHASES_FREQUENCY": -3.0, "TENURE": 1.0},
         {"BALANCE": -2.0, "PURCHASES_FREQUENCY": 7.0, "TENURE": 0.5},
         {"BALANCE": 0.3, "PURCHASES_FREQUENCY": 0.2, "TENURE": 0.1}]
    no_revenue = {"customer_share": 0.3, "revenue_share": math.nan, "revenue_lift": math.nan}
    texts = name_segments(levels, v, middles(levels), [no_revenue] * 3, RULES)
    assert [t["name"]["en"] for t in texts] == ["Very high balance, low purchases frequency",
                                                "Very high purchases frequency, low balance", "Average profile"]
    assert texts[0]["name"]["fr"] == "Niveau de balance très élevé, niveau de purchases frequency bas"
    assert [t["action_rule"] for t in texts] == ["trait:balance_high@BALANCE", "trait:frequency_high@PURCHASES_FREQUENCY",
                                                 "average"]
    assert texts[0]["action"]["en"].startswith("Carry a high balance")


def test_share_conditions_parse_and_hold():
    assert parse_condition(" <= 0.25 ") == ("<=", 0.25)
    rule = {"when": {}, "when_share": {"revenue_lift": "> 1", "customer_share": "< 0.5"}}
    assert rule_holds(rule, {}, shares(0.4, 1.01)) and not rule_holds(rule, {}, shares(0.4, 1.0))
    assert not rule_holds(rule, {}, shares(0.5, 2.0))


RULE_TEXTS = 'name = { en = "N", fr = "N" }\ndescription = { en = "D", fr = "D" }\naction = { en = "A", fr = "A" }\n'
LEVEL_WORDS = ('[levels]\nen = { "very low" = "a", low = "b", average = "c", high = "d", "very high" = "e" }\n'
               'fr = { "very low" = "a", low = "b", average = "c", high = "d", "very high" = "e" }\n')


@pytest.mark.parametrize(("text", "message"), [
    ('[[rule]]\nid = "x"\nwhen = { TotalSales = ["huge"] }\n', "rule 'x' needs name/description/action in en and fr"),
    ('[[rule]]\nid = "x"\nwhen = { TotalSales = ["huge"] }\n' + RULE_TEXTS, "rule 'x' needs levels among very low"),
    ('[[rule]]\n' + RULE_TEXTS, "rule '?' needs a unique id"),
    ('[[rule]]\nid = "x"\n' + RULE_TEXTS + '[[rule]]\nid = "x"\n' + RULE_TEXTS, "rule 'x' needs a unique id"),
    ('[[rule]]\nid = "x"\nwhen_share = { revenue = ">= 1" }\n' + RULE_TEXTS,
     "rule 'x' has when_share 'revenue': the shares are customer_share, revenue_share, revenue_lift"),
    ('[[rule]]\nid = "x"\nwhen_share = { revenue_lift = "at least 2" }\n' + RULE_TEXTS,
     "rule 'x' has when_share revenue_lift: 'at least 2' is not '<op> <number>'"),
    ('[[trait]]\nid = "t"\nmatch = "a"\ndirection = "up"\naction = { en = "A", fr = "A" }\n',
     "trait 't' needs direction high or low"),
    ('[[trait]]\nid = "t"\nmatch = "("\ndirection = "high"\naction = { en = "A", fr = "A" }\n',
     "trait 't' has a match '(' that is not a regular expression"),
    ('[[trait]]\nmatch = "a"\ndirection = "high"\naction = { en = "A", fr = "A" }\n', "trait '?' needs a unique id"),
    ('[levels]\nen = { high = "high" }\n', "needs a word for each of very low, low, average, high, very high"),
])
def test_a_bad_rules_file_is_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "rules.toml"
    path.write_text(text + ("" if "[levels]" in text else LEVEL_WORDS), encoding="utf-8")
    with pytest.raises(UsageError, match=re.escape(message)) as error:
        load_rules(path)
    assert "\n" not in str(error.value)


def test_three_siblings_with_the_same_levels_are_ranked_in_words():
    key = BASE | {"TotalSales": "very high", "OrderCount": "high", "RecencyDays": "low"}
    v = [{"TotalSales": t, "OrderCount": 4.0, "AvgOrderValue": 0.5, "RecencyDays": -3.0} for t in (5.0, 9.0, 7.0)]
    texts = name_segments([key] * 3, v, middles([key] * 3), [shares(0.05, 4.0)] * 3, RULES)
    assert [t["name"]["en"] for t in texts] == ["Key accounts – lowest spend", "Key accounts – highest spend",
                                                "Key accounts – 2nd highest spend"]
    assert texts[2]["name"]["fr"] == "Comptes clés – chiffre d'affaires 2e plus élevé"


def test_a_trait_goes_to_the_segment_furthest_out_on_its_feature_not_the_first():
    # mall: segment 2 (young, modest income, score 58) comes first; segment 3 (income 78.5k, score 83) is the
    # one with the high score: it gets the score action, segment 2 an action true of it (its age)
    levels = [{"Age": "very low", "Income": "low", "Score": "high"},
              {"Age": "low", "Income": "very high", "Score": "very high"}]
    v = [{"Age": -9.4, "Income": -6.9, "Score": 3.9}, {"Age": -2.6, "Income": 7.3, "Score": 8.6}]
    texts = name_segments(levels, v, middles(levels), [shares(0.5, math.nan)] * 2, RULES)
    assert [t["action_rule"] for t in texts] == ["trait:age_low@Age", "trait:score_high@Score"]
    assert texts[1]["action"]["en"].startswith("High scores: invite them to a premium programme")


def test_a_sibling_without_a_trait_where_it_differs_takes_one_of_its_other_features():
    # online_retail: two small occasional segments told apart by their baskets; the mid-range one has not
    # ordered for long (recency high, not a condition of its rule): its action is the win-back trait
    small = {"TotalSales": "low", "OrderCount": "very low"}
    texts = named((small | {"AvgOrderValue": "very low", "RecencyDays": "high"}, shares(0.145, 0.07)),
                  (small | {"RecencyDays": "high"}, shares(0.117, 0.15)))
    assert [t["name"]["en"] for t in texts] == ["Small occasional customers – very low average order value",
                                                "Small occasional customers – mid-range average order value"]
    assert [t["action_rule"] for t in texts] == ["rule:small_customers + trait:basket_low@AvgOrderValue",
                                                 "rule:small_customers + trait:recency_high@RecencyDays"]
    assert "Reactivate them before they are lost" in texts[1]["action"]["en"]


def test_siblings_are_not_told_apart_by_medians_on_either_side_of_a_cut():
    # demo: average orders of 163.57 and 164.67 straddle the 20% cut ("very low" / "low"): no difference, though
    # their v-tests spread most; their spends (percentiles 0.15 and 0.38) differ: they are named by that
    small = {"OrderCount": "very low", "RecencyDays": "high"}
    levels = [BASE | small | {"TotalSales": "very low", "AvgOrderValue": "very low"},
              BASE | small | {"TotalSales": "low", "AvgOrderValue": "low"}]
    percentiles = [{"TotalSales": 0.15, "OrderCount": 0.17, "AvgOrderValue": 0.199, "RecencyDays": 0.7},
                   {"TotalSales": 0.38, "OrderCount": 0.17, "AvgOrderValue": 0.201, "RecencyDays": 0.7}]
    v = [{"TotalSales": -9.0, "OrderCount": -8.0, "AvgOrderValue": -9.0, "RecencyDays": 4.0},
         {"TotalSales": -4.0, "OrderCount": -8.0, "AvgOrderValue": -2.0, "RecencyDays": 4.0}]
    texts = name_segments(levels, v, percentiles, [shares(0.1, 0.2)] * 2, RULES)
    assert [t["name_rule"] for t in texts] == ["rule:small_customers + level:TotalSales"] * 2
    assert [t["name"]["en"] for t in texts] == ["Small occasional customers – very low spend",
                                                "Small occasional customers – low spend"]
    # with a real gap, the baskets (spread most) tell them apart
    percentiles[1]["AvgOrderValue"] = 0.31
    texts = name_segments(levels, v, percentiles, [shares(0.1, 0.2)] * 2, RULES)
    assert texts[0]["name"]["en"] == "Small occasional customers – very low average order value"


def test_names_write_medians_on_either_side_of_a_cut_alike():
    # demo: segment 5 (levels-named, average order 163.57, percentile 0.1996) and segment 7 (a sibling told apart
    # from a high-basket one, 164.67, 0.202): "very low" and "low" for the same basket; both are written "low"
    levels = [BASE | {"AvgOrderValue": "very low", "TotalSales": "low"},
              BASE | {"TotalSales": "low", "OrderCount": "very low", "AvgOrderValue": "high", "RecencyDays": "high"},
              BASE | {"TotalSales": "very low", "OrderCount": "very low", "AvgOrderValue": "low", "RecencyDays": "high"}]
    percentiles = [{"TotalSales": 0.35, "OrderCount": 0.54, "AvgOrderValue": 0.1996, "RecencyDays": 0.48},
                   {"TotalSales": 0.25, "OrderCount": 0.16, "AvgOrderValue": 0.715, "RecencyDays": 0.74},
                   {"TotalSales": 0.08, "OrderCount": 0.16, "AvgOrderValue": 0.202, "RecencyDays": 0.74}]
    v = [{"TotalSales": -8.0, "OrderCount": 0.5, "AvgOrderValue": -12.0, "RecencyDays": 0.2},
         {"TotalSales": -13.0, "OrderCount": -19.0, "AvgOrderValue": 11.0, "RecencyDays": 12.0},
         {"TotalSales": -24.0, "OrderCount": -17.0, "AvgOrderValue": -19.0, "RecencyDays": 8.0}]
    texts = name_segments(levels, v, percentiles, [shares(0.13, 0.3), shares(0.15, 0.07), shares(0.17, 0.02)], RULES)
    assert [t["name"]["en"] for t in texts] == ["Low average order value, low spend",
                                                "Small occasional customers – high average order value",
                                                "Small occasional customers – low average order value"]
