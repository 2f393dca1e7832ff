"""Numbers formatted for a language: 1,234.5 in English, 1 234,5 in French."""

from __future__ import annotations

import math

from ._errors import UsageError
from ._schema import LANGUAGES

NARROW_NBSP = "\u202f"


def check_lang(lang: str) -> str:
    """Validate a language code."""
    if lang not in LANGUAGES:
        raise UsageError(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return lang


def format_number(value: float, lang: str = "en", decimals: int = 0) -> str:
    """Format a number with the language's separators.

    >>> format_number(1234.5, "fr", 1), format_number(1234.5, "en", 1)
    ('1\u202f234,5', '1,234.5')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", NARROW_NBSP).replace(".", ",")
    return text


def format_percent(share: float, lang: str = "en", decimals: int = 1) -> str:
    """Format a 0..1 share as a percentage (French puts a space before %).

    >>> format_percent(0.123, "fr")
    '12,3\u202f%'
    """
    text = format_number(share * 100, lang, decimals)
    return f"{text}{NARROW_NBSP}%" if lang == "fr" else f"{text}%"


def format_value(value: float, lang: str) -> str:
    """A feature value with as many decimals as its size deserves.

    >>> format_value(1234.567, "en"), format_value(0.4567, "fr"), format_value(12.34, "en"), format_value(0.0, "en")
    ('1,235', '0,457', '12.3', '0')
    """
    if value is None or not math.isfinite(value):
        return "–"
    size = abs(value)
    decimals = 0 if size >= 1000 or value == int(value) else 1 if size >= 10 else 2 if size >= 1 else 3
    return format_number(value, lang, decimals)
