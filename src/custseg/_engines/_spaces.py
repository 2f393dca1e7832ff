"""The spaces trimmed around values and column names, the same in every reader.

ASCII spaces, tabs and line breaks, and the Unicode spaces that exports and copy-paste leave
around a value or a header: no-break (U+00A0), narrow no-break (U+202F), figure (U+2007),
thin (U+2009) and the other U+2000 block spaces, ideographic (U+3000), zero-width (U+200B,
U+2060) and the byte order mark (U+FEFF). Spaces inside a value or a name are kept.

>>> trim("\\ufeffAccount\\u00a0"), trimmed_names(["\\ufeffAccount", "Net Price\\u3000", "id", "id "])
('Account', ['Account', 'Net Price', 'id', 'id '])
"""

from __future__ import annotations

from collections import Counter

ASCII_SPACES = "\t\n\x0b\x0c\r "
UNICODE_SPACES = ("\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200C))) + "\u2028\u2029\u202f\u205f\u2060\u3000"
                  "\ufeff")
SPACES = ASCII_SPACES + UNICODE_SPACES
# the same characters as a regular-expression class (RE2 for DuckDB, Java for Spark)
SPACE_CLASS = r"[\t-\r \x{0085}\x{00a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]"


def trim(text: str) -> str:
    """`text` without the spaces around it."""
    return text.strip(SPACES)


def trimmed_names(names: list[str]) -> list[str]:
    """Column names without the spaces around them; a name whose trimmed form another name has is kept as it is."""
    trimmed = [trim(name) or name for name in names]
    counts = Counter(trimmed)
    return [new if counts[new] == 1 else old for old, new in zip(names, trimmed)]
