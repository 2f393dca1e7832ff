"""HCPC's cut as custseg votes it, against FactoMineR's lines run in R on the shared datasets.

reference/hcpc_cut.R builds HCPC's Ward tree (FactoMineR 2.14's auto.cut.tree, in base R: hclust "ward.D" on
dist^2 / (2 n) of the principal components of custseg's model units) and writes its inert.gain (hcpc/NAME_gain.csv)
and three cuts (hcpc/cuts.csv): `cut_3_8` by FactoMineR's live lines over k = 3..8 (highest
inert.gain[k-1] / inert.gain[k]), `cut_default` with HCPC's defaults, and `old_cut_3_8` by the "Ancien calcul"
(lowest W(k) / W(k-1)). Issue 26's HCPC column is the old rule's cut on five of the six, the live lines' on two:
custseg keeps the old rule, on its K-means inertias (docs/methods.md, "HCPC's cut").
"""

from __future__ import annotations

import pandas as pd
import pytest

from custseg._cluster._segmenter import _fit_kmeans
from custseg._cluster._vote import inertia_ratios
from test_nbclust_panel import CASES, REFERENCE, units

CUTS = pd.read_csv(REFERENCE / "hcpc" / "cuts.csv").set_index("data")
ISSUE_26 = {"online_retail": 3, "wholesale_spend": 3, "cc_general": 3, "wholesale_all": 3, "mall": 4, "demo": 4}


@pytest.mark.parametrize("case", CASES)
def test_custsegs_cut_is_the_old_rule_on_factominers_tree(case, tmp_path):
    Z = units(case, tmp_path)
    inertias = pd.Series([_fit_kmeans(Z, k, 10, 42).inertia_ for k in range(2, 9)])
    ratios = inertia_ratios(inertias[1:].reset_index(drop=True), float(inertias[0]))  # W(k) / W(k-1), k = 3..8
    cut = 3 + int(ratios.argmin())
    assert cut == CUTS.loc[case, "old_cut_3_8"]
    assert (cut == ISSUE_26[case]) == (case != "demo")  # the issue's CPQ export is its own, not the demo


def test_the_live_lines_would_agree_with_the_issue_on_two_datasets_only():
    agree = [case for case in CASES if CUTS.loc[case, "cut_3_8"] == ISSUE_26[case]]
    assert sorted(agree) == ["online_retail", "wholesale_all"]
    assert sum(CUTS.loc[case, "old_cut_3_8"] == ISSUE_26[case] for case in CASES) == 5
