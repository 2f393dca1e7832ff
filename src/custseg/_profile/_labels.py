"""Business words for features, in English and French: the built-in dictionary, the user's [labels], humanised columns.

The built-in French words are masculine singular noun phrases ("nombre de commandes"), so
a level word agrees with them as written ("nombre de commandes élevé"). Other words (the
user's, humanised columns) have no known gender: French phrases them through "niveau de",
which agrees with "niveau" whatever the label ("niveau de balance élevé").

>>> label_of("AvgOrderValue", {}, "fr"), label_of("PURCHASES_FREQUENCY", {}, "en")
('panier moyen', 'purchases frequency')
>>> level_phrase("OrderCount", "élevé", {}, "fr"), level_phrase("Age", "élevé", {}, "fr")
('nombre de commandes élevé', "niveau d'age élevé")
"""

from __future__ import annotations

import re

# The period is the data's (custseg reads any window), so "spend", not "annual spend".
BUSINESS_WORDS: dict[str, dict[str, str]] = {
    "TotalSales": {"en": "spend", "fr": "chiffre d'affaires"},
    "OrderCount": {"en": "number of orders", "fr": "nombre de commandes"},
    "AvgOrderValue": {"en": "average order value", "fr": "panier moyen"},
    "RecencyDays": {"en": "days since the last order", "fr": "nombre de jours depuis la dernière commande"},
    "TenureDays": {"en": "days since the first order", "fr": "nombre de jours depuis la première commande"},
    "ProductCount": {"en": "number of products bought", "fr": "nombre de produits achetés"},
    "LineCount": {"en": "number of order lines", "fr": "nombre de lignes de commande"},
    "Units": {"en": "units bought", "fr": "nombre d'unités achetées"},
}
# How a typical value of a built-in feature reads in a sentence: (singular, plural) forms, {v} the value.
FACT_PHRASES: dict[str, dict[str, tuple[str, str]]] = {
    "TotalSales": {"en": ("spend {v}",) * 2, "fr": ("chiffre d'affaires de {v}",) * 2},
    "OrderCount": {"en": ("{v} order", "{v} orders"), "fr": ("{v} commande", "{v} commandes")},
    "AvgOrderValue": {"en": ("average order {v}",) * 2, "fr": ("panier moyen de {v}",) * 2},
    "RecencyDays": {"en": ("last order {v} day before the end of the data", "last order {v} days before the end of the data"),
                    "fr": ("dernière commande {v} jour avant la fin des données",
                           "dernière commande {v} jours avant la fin des données")},
    "TenureDays": {"en": ("first order {v} day before the end of the data", "first order {v} days before the end of the data"),
                   "fr": ("première commande {v} jour avant la fin des données",
                          "première commande {v} jours avant la fin des données")},
    "ProductCount": {"en": ("{v} product", "{v} products"), "fr": ("{v} produit", "{v} produits")},
    "LineCount": {"en": ("{v} order line", "{v} order lines"), "fr": ("{v} ligne de commande", "{v} lignes de commande")},
    "Units": {"en": ("{v} unit", "{v} units"), "fr": ("{v} unité", "{v} unités")},
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_VOWEL = re.compile(r"^[aeiouyhàâéèêîôû]", re.IGNORECASE)


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


def level_phrase(feature: str, word: str, labels: dict, lang: str) -> str:
    """A level word with the feature's label, in the language's order and agreement (module docstring).

    >>> level_phrase("TotalSales", "very high", {}, "en"), level_phrase("TotalSales", "très élevé", {}, "fr")
    ('very high spend', "chiffre d'affaires très élevé")
    """
    label = label_of(feature, labels, lang)
    if lang != "fr":
        return f"{word} {label}"
    if feature in BUSINESS_WORDS and feature not in labels:
        return f"{label} {word}"
    of = "d'" if _VOWEL.match(label) else "de "
    return f"niveau {of}{label} {word}"


def fact_phrase(feature: str, value: float, shown: str, labels: dict, lang: str) -> str:
    """A typical value in a sentence: the built-in phrase ("34 orders") unless the user labelled the
    feature, else "label value". `shown` is `value` formatted; English singular at 1, French under 2.

    >>> fact_phrase("OrderCount", 1.0, "1", {}, "en"), fact_phrase("RecencyDays", 20.0, "20", {}, "fr")
    ('1 order', 'dernière commande 20 jours avant la fin des données')
    >>> fact_phrase("BALANCE", 56.1, "56.1", {}, "en")
    'balance 56.1'
    """
    if feature in FACT_PHRASES and feature not in labels:
        singular, plural = FACT_PHRASES[feature][lang]
        one = abs(value) < 2 if lang == "fr" else abs(value) == 1
        return (singular if one else plural).format(v=shown)
    return f"{label_of(feature, labels, lang)} {shown}"
