"""The review table: written for a spreadsheet, read back exactly; the checks of its edits on a hand-made table."""

from __future__ import annotations

import pandas as pd
import pytest

from custseg import DataError
from custseg._review import EDITABLE, read_edits, read_review_table, write_review_table

TEXTS = {1: {"name": {"en": "Big", "fr": "Gros"}, "description": {"en": "Spend a lot.", "fr": "Dépensent beaucoup."},
             "action": {"en": "Call them.", "fr": "Les appeler."}},
         2: {"name": {"en": "Small", "fr": "Petits"}, "description": {"en": "", "fr": ""}, "action": {"en": "", "fr": ""}},
         3: {"name": {"en": "New", "fr": "Nouveaux"}, "description": {"en": "", "fr": ""}, "action": {"en": "", "fr": ""}}}
SIZES = {1: 10, 2: 30, 3: 5}


def table(**edits) -> pd.DataFrame:
    """The table as read back (text), with {column_of_segment: value} edits, e.g. merge_into_2="1"."""
    rows = [{"segment_id": str(sid), "size": str(SIZES[sid]), "customer_share": "0.1", "revenue_share": "",
             "summary_en": "Typical customer.", **{f"{k}_{lang}": TEXTS[sid][k][lang] for k in ("name", "description", "action")
                                                   for lang in ("en", "fr")}, "merge_into": ""} for sid in TEXTS]
    frame = pd.DataFrame(rows)
    for key, value in edits.items():
        column, sid = key.rsplit("_", 1)
        frame.loc[frame["segment_id"] == sid, column] = value
    return frame


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_cells_a_spreadsheet_would_run_are_written_inert_and_read_back_exactly(tmp_path, suffix):
    written = table(action_en_1="=HYPERLINK(\"http://x\")", name_fr_2="+Petits", description_en_3="-10% off", name_en_3="@home")
    frame = written.assign(size=[10, 30, 5], customer_share=[0.2, 0.6, 0.1], revenue_share=[0.5, 0.4, float("nan")])
    path = write_review_table(frame, tmp_path / f"segments{suffix}")
    back = read_review_table(path)
    assert back[list(EDITABLE)].equals(written[list(EDITABLE)])
    assert back["size"].tolist() == ["10", "30", "5"] and back["revenue_share"].tolist()[2] == ""
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        assert "'=HYPERLINK" in text and "'+Petits" in text and "'-10% off" in text and "'@home" in text


def test_edits_list_each_change_and_the_merges():
    edits = read_edits(table(name_en_1="Key accounts", action_fr_2="Relancer", merge_into_3="2.0"), "t.csv", TEXTS, SIZES)
    assert edits.merges == {3: 2}
    assert edits.changes == [{"segment_id": 1, "field": "name_en", "old": "Big", "new": "Key accounts"},
                             {"segment_id": 2, "field": "action_fr", "old": "", "new": "Relancer"},
                             {"segment_id": 3, "field": "merge_into", "old": None, "new": 2}]
    assert sorted(edits.texts) == [1, 2] and edits.texts[1]["name"] == {"en": "Key accounts", "fr": "Gros"}


def test_a_merged_segment_may_keep_a_name_another_segment_takes():
    edits = read_edits(table(name_en_1="New", merge_into_3="1"), "t.csv", TEXTS, SIZES)
    assert edits.texts[1]["name"]["en"] == "New"


@pytest.mark.parametrize("edits, message", [
    ({"merge_into_1": "2", "merge_into_2": "1"}, "t.csv, row 2: segment 1 merges into 2, which merges into 1: merge both into 1 directly"),
    ({"name_en_2": "big"}, "t.csv, row 3: name_en 'big' is also the name of segment 1 (row 2); names must differ"),
    ({"merge_into_2": "1.5"}, "t.csv, row 3: merge_into '1.5' is not a segment id"),
    ({"size_3": "6"}, "t.csv, row 4: segment 3 has 6 customers in this table but 5 in the run"),
])
def test_bad_edits(edits, message):
    with pytest.raises(DataError) as info:
        read_edits(table(**edits), "t.csv", TEXTS, SIZES)
    assert str(info.value).startswith(message)


def test_an_empty_last_line_is_not_a_row():
    frame = pd.concat([table(), pd.DataFrame([{c: "" for c in table().columns}])], ignore_index=True)
    assert read_edits(frame, "t.csv", TEXTS, SIZES).changes == []
