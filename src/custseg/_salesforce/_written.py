"""What custseg wrote to each record: the value it sent and the value Salesforce stored (read back after the update).

An org may rewrite a value on update (a flow or trigger that uppercases a name): a later push
compares the org's value with what the org stored for the value it would send, so it does not
resend it; a rollback puts a value back only where the record still holds what custseg wrote.
Kept in `written.csv` (`Id, field, sent, stored`) beside the push files, merged by each push.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from .._atomic import restore_frame
from .._errors import DataError

WRITTEN_FILE = "written.csv"
COLUMNS = ["Id", "field", "sent", "stored"]
MAX_REWRITES_SHOWN = 20
Written = dict[tuple[str, str], tuple[str, str]]  # (Id, field) -> (value sent, value stored)


def read_written(out_dir: Path) -> Written:
    """The record of `out_dir` (empty when no push recorded one)."""
    path = out_dir / WRITTEN_FILE
    if not path.is_file():
        return {}
    try:
        frame = restore_frame(pd.read_csv(path, dtype=str, keep_default_na=False))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({type(exc).__name__}); remove it to compare without it") from None
    if list(frame.columns) != COLUMNS:
        raise DataError(f"{path}: expected the columns {', '.join(COLUMNS)}; got {list(frame.columns)}")
    return {(i, f): (sent, stored) for i, f, sent, stored in frame.itertuples(index=False)}


def merged_frame(older: Written, newer: Written) -> pd.DataFrame:
    """Both records as a table, `newer` winning.

    >>> merged_frame({("a", "S"): ("x", "X")}, {("a", "S"): ("y", "Y")}).values.tolist()
    [['a', 'S', 'y', 'Y']]
    """
    rows = [[i, f, sent, stored] for (i, f), (sent, stored) in {**older, **newer}.items()]
    return pd.DataFrame(rows, columns=COLUMNS)


def rewrites(newer: Written, same) -> tuple[int, list[dict]]:
    """How many values the org stored differently from what was sent (`same(stored, sent, field)` false),
    and the distinct rewrites, most frequent first (at most `MAX_REWRITES_SHOWN`).

    >>> rewrites({("a", "S"): ("x", "X"), ("b", "S"): ("x", "X")}, lambda s, v, f: s == v)
    (2, [{'field': 'S', 'sent': 'x', 'stored': 'X', 'count': 2}])
    """
    counts = Counter((f, sent, stored) for (_, f), (sent, stored) in newer.items() if not same(stored, sent, f))
    shown = [{"field": f, "sent": sent, "stored": stored, "count": n}
             for (f, sent, stored), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return sum(counts.values()), shown[:MAX_REWRITES_SHOWN]


def rewrite_text(count: int, shown: list[dict]) -> str:
    """'the org rewrites 40 value(s) on update: Segment__c 'Champions' -> 'CHAMPIONS' (13), ...'."""
    parts = [f"{r['field']} {r['sent']!r} -> {r['stored']!r} ({r['count']:,})" for r in shown[:3]]
    more = f" and {len(shown) - 3:,} more" if len(shown) > 3 else ""
    return (f"the org rewrites {count:,} value(s) on update (a flow or trigger): {', '.join(parts)}{more}; "
            f"custseg recorded what it stores ({WRITTEN_FILE}) and compares with that: a later push does not resend them")
