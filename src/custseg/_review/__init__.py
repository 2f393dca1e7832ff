"""The business review of a run: the editable segments table, the checks of its edits, and the sign-off.

`_table` writes the table marketing edits and reads it back; `_edits` checks the edits
(renames, texts, merges) against the run; `_approval` holds the sign-off record and says
whether it still holds. Recomputing the run after a merge is `custseg._workflows._review`.
"""

from ._approval import APPROVED_FILES, Approval, approval_record, approval_status, file_hashes
from ._edits import Edits, read_edits
from ._table import EDITABLE, read_review_table, review_table, write_review_table

__all__ = ["APPROVED_FILES", "EDITABLE", "Approval", "Edits", "approval_record", "approval_status", "file_hashes",
           "read_edits", "read_review_table", "review_table", "write_review_table"]
