"""Messages without Python reprs: simple-salesforce parses JSON into OrderedDicts, and its errors print them raw."""

from __future__ import annotations

import ast

ORDERED = "OrderedDict("


def _closing(text: str, start: int) -> int:
    """Index of the ')' closing the '(' at `start`, skipping quoted text; -1 if there is none."""
    depth, quote, escaped = 0, "", False
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            escaped = char == "\\" and not escaped
            if char == quote and not escaped:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def plain_text(text: str) -> str:
    """`text` with each `OrderedDict([('k', v), ...])` written as a dict, `{'k': v, ...}` (innermost first).

    >>> plain_text("Job failure. Response content: OrderedDict([('id', '750'), ('state', 'Failed')])")
    "Job failure. Response content: {'id': '750', 'state': 'Failed'}"
    """
    end = len(text)
    while (start := text.rfind(ORDERED, 0, end)) >= 0:
        close = _closing(text, start + len(ORDERED) - 1)
        if close < 0:  # cut short: drop the name only
            text = text[:start] + text[start + len(ORDERED) :]
        else:
            inner = text[start + len(ORDERED) : close]
            try:
                replacement = repr(dict(ast.literal_eval(inner)))
            except (ValueError, SyntaxError, TypeError):
                replacement = inner
            text = text[:start] + replacement + text[close + 1 :]
        end = start
    return text
