"""The vote's warnings in words."""

from __future__ import annotations

import pandas as pd

from custseg._cluster._reference import structure_words
from custseg._cluster._vote import warnings_for


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
