"""Business words for features, in English and French: the built-in dictionary, the user's [labels], humanised columns.

>>> label_of("AvgOrderValue", {}, "fr"), label_of("PURCHASES_FREQUENCY", {}, "en")
('panier moyen', 'purchases frequency')
"""

from __future__ import annotations

import re

BUSINESS_WORDS: dict[str, dict[str, str]] = {
    "TotalSales": {"en": "spend", "fr": "chiffre d'affaires"},
    "OrderCount": {"en": "orders", "fr": "commandes"},
    "AvgOrderValue": {"en": "average order", "fr": "panier moyen"},
    "RecencyDays": {"en": "days since the last order", "fr": "jours depuis la dernière commande"},
    "TenureDays": {"en": "days since the first order", "fr": "jours depuis la première commande"},
    "ProductCount": {"en": "products bought", "fr": "produits achetés"},
    "LineCount": {"en": "order lines", "fr": "lignes de commande"},
    "Units": {"en": "units bought", "fr": "unités achetées"},
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def humanise(column: str) -> str:
    """A column name as words: separators to spaces, camelCase split, lower case.

    >>> humanise("PURCHASES_FREQUENCY"), humanise("Annual Income (k$)"), humanise("CustomerTenureDays")
    ('purchases frequency', 'annual income (k$)', 'customer tenure days')
    """
    words = _CAMEL.sub(" ", str(column)).replace("_", " ").replace(".", " ")
    return re.sub(r"\s+", " ", words).strip().lower() or str(column)


def label_of(feature: str, labels: dict, lang: str) -> str:
    """The feature's words in `lang`: the user's [labels], else the built-in dictionary, else the humanised column.

    >>> label_of("PURCHASES_FREQUENCY", {"PURCHASES_FREQUENCY": {"en": "purchase frequency"}}, "fr")
    'purchase frequency'
    """
    for table in (labels, BUSINESS_WORDS):
        given = table.get(feature) or {}
        if given.get(lang) or given.get("en"):
            return given.get(lang) or given["en"]
    return humanise(feature)
