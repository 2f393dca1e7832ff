"""The vote's reason and warnings in words."""

from __future__ import annotations

import pandas as pd

import custseg
from custseg._cluster._reference import structure_words
from custseg._cluster._vote import vote_k, warnings_for
from shared_data import shared_file


def test_no_k_keeping_its_segments_is_said_in_both_languages():
    """Every k has a segment under Jaccard 0.6 (best weakest 0.55); without per-segment values, the adjusted Rand."""
    structure = {"natural_groups": True}
    by_jaccard = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.4] * 3, "jaccard_min": [0.55, 0.41, 0.3]})
    assert warnings_for(by_jaccard, 4, None, edges=False, structure=structure) == [{
        "en": "No k in 3..5 keeps every segment under resampling (best weakest-segment Jaccard 0.55, under 0.6): the "
              "segments may change from one run or one year to the next.",
        "fr": "Aucun k de 3 à 5 ne garde tous ses segments sous rééchantillonnage (meilleur Jaccard du segment le plus "
              "faible 0,55, sous 0,6) : les segments peuvent changer d'une exécution ou d'une année à l'autre."}]
    by_rand = pd.DataFrame({"k": [3, 4], "silhouette": [0.4] * 2, "stability_ari": [0.7, 0.65]})
    assert [w["en"] for w in warnings_for(by_rand, 4, None, edges=False, structure=structure)] == [
        "No k in 3..4 is stable (best adjusted Rand under resampling 0.70, under 0.8): the segments may change from "
        "one run or one year to the next."]
    assert warnings_for(by_jaccard.assign(jaccard_min=[0.61, 0.41, 0.3]), 4, None, edges=False, structure=structure) == []


def test_structure_sentence_writes_numbers_as_each_language_does():
    record = {"tighter": 0.3, "silhouette": 0.412, "silhouette_copies": 0.306, "copies": 5, "natural_groups": True}
    words = structure_words(record)
    assert words["en"].startswith("Natural groups: the segments are 30% tighter") and "(silhouette 0.41 against 0.31" in words["en"]
    assert words["fr"].startswith("Groupes naturels : les segments sont 30\u202f% plus resserrés")
    assert "(silhouette 0,41 contre 0,31 sur les copies)" in words["fr"]
    lumps = warnings_for(pd.DataFrame({"k": [3, 4], "silhouette": [0.2, 0.21]}), 4, 0.55, edges=False)
    assert "statistique de Hopkins 0,55, proche de 0,5" in lumps[0]["fr"] and "silhouette 0,21, sous 0,25" in lumps[0]["fr"]
    assert "Hopkins statistic 0.55, near 0.5" in lumps[0]["en"] and "silhouette 0.21, under 0.25" in lumps[0]["en"]


def test_reason_says_why_k_is_not_hcpcs_cut_on_wholesale_all_columns():
    """Wholesale, all 8 columns: HCPC's inertia-gain ratio is lowest at k=3 (W(3)/W(2) = 0.86; 0.89 at k=4), but the
    trace-based indices of NbClust's panel, the point-biserial, Dunn and the silhouette carry k=4, 9 votes to 8."""
    k = custseg.segment(shared_file("wholesale_customers.csv"), customers=True).run["k"]
    assert k["chosen"] == 4
    assert k["reason_en"].endswith(
        " k=4 is not HCPC's inertia-gain cut, k=3 (W(3)/W(2) = 0.86, the lowest of k=3..8; 0.89 at k=4): the 9 indices "
        "above carried k=4, against 8 for k=3 (CH (NbClust), Duda (NbClust), PseudoT2 (NbClust), Beale (NbClust), "
        "Ratkowsky (NbClust), McClain (NbClust), stability over subsamples (adjusted Rand), inertia-gain ratio (HCPC)).")
    assert "Hartigan (NbClust), Marriot (NbClust), TrCovW (NbClust), TraceW (NbClust), Rubin (NbClust), Ball (NbClust), " \
           "PtBiserial (NbClust), Dunn (NbClust), silhouette)" in k["reason_en"]
    assert (" k=4 n'est pas la coupure de HCPC par les gains d'inertie, k=3 (W(3)/W(2) = 0,86, le plus bas de k=3 à 8 ; "
            "0,89 à k=4) : les 9 indices ci-dessus ont porté k=4, contre 8 pour k=3 (CH (NbClust)") in k["reason_fr"]


def test_reason_says_when_hcpcs_cut_is_not_eligible():
    # ratios 0.5 at k=3 (HCPC's cut), 0.8 at k=4; k=3 has a segment of 2% (< 5%): only k=4 is eligible and wins
    table = pd.DataFrame({"k": [3, 4], "silhouette": [0.5, 0.4], "inertia_ratio": [0.5, 0.8],
                          "min_share": [0.02, 0.2]})
    k, reason, _ = vote_k(table, 0.05)
    assert k == 4
    assert reason["en"].endswith(" k=4 is not HCPC's inertia-gain cut, k=3 (W(3)/W(2) = 0.50, the lowest of k=3..4; "
                                 "0.80 at k=4): k=3 is not eligible, a segment holds under 5% of customers.")
    assert reason["fr"].endswith("k=3 n'est pas éligible, un segment regroupe moins de 5\u202f% des clients.")
    table = pd.DataFrame({"k": [3, 4], "silhouette": [0.5, 0.4], "inertia_ratio": [0.5, 0.8], "min_share": [0.2, 0.2]})
    assert "HCPC's inertia-gain cut" not in vote_k(table, 0.05)[1]["en"]  # k=3 wins: no sentence


def test_hcpcs_cut_under_the_business_minimum_is_said_as_such():
    # HCPC's lowest ratio is at k=2, which the business minimum (floor 3) rules out; its Jaccard (0.99) is fine
    table = pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.6, 0.5, 0.4], "inertia_ratio": [0.4, 0.7, 0.8],
                          "min_share": [0.4, 0.3, 0.2], "jaccard_min": [0.99, 0.95, 0.9]})
    k, reason, _ = vote_k(table, 0.05, floor=3)
    assert k == 3
    assert reason["en"].endswith("k=2 is not eligible, it is under the business minimum of segments.")
    assert reason["fr"].endswith("k=2 n'est pas éligible, il est sous le minimum métier de segments.")
    assert "Jaccard is under" not in reason["en"]
    table["jaccard_min"] = [0.5, 0.95, 0.9]  # now k=2 dissolves too: that is said first
    assert vote_k(table, 0.05, floor=3)[1]["en"].endswith("k=2 is not eligible, a segment's bootstrap Jaccard is under 0.6.")
