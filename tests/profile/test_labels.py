"""Business words: built-in dictionary, the user's [labels], humanised columns, French agreement."""

import pytest

from custseg._prep._features import FEATURES
from custseg._profile import BUSINESS_WORDS, humanise, label_of
from custseg._profile._labels import level_phrase


def test_every_built_in_feature_has_words_in_both_languages():
    assert set(FEATURES) <= set(BUSINESS_WORDS)
    for feature, words in BUSINESS_WORDS.items():
        assert words["en"] and words["fr"] and feature not in words.values()


@pytest.mark.parametrize(("column", "words"), [
    ("PURCHASES_FREQUENCY", "purchases frequency"), ("CustomerTenureDays", "customer tenure days"),
    ("Annual Income (k$)", "annual income (k$)"), ("order.count", "order count"), ("X", "x")])
def test_columns_are_humanised(column, words):
    assert humanise(column) == words


def test_the_users_labels_win_then_the_dictionary_then_the_column():
    given = {"TotalSales": {"en": "turnover", "fr": "ventes"}, "BALANCE": {"en": "balance owed"}}
    assert label_of("TotalSales", given, "fr") == "ventes"
    assert label_of("BALANCE", given, "fr") == "balance owed"  # no French given: the English words
    assert label_of("OrderCount", given, "fr") == "nombre de commandes"
    assert label_of("CASH_ADVANCE", given, "en") == "cash advance"


@pytest.mark.parametrize(("feature", "labels", "lang", "word", "phrase"), [
    ("OrderCount", {}, "en", "very high", "very high number of orders"),
    ("OrderCount", {}, "fr", "très élevé", "nombre de commandes très élevé"),  # the built-in words are masculine singular
    ("AvgOrderValue", {}, "fr", "bas", "panier moyen bas"),
    ("BALANCE", {}, "fr", "élevé", "niveau de balance élevé"),  # unknown gender: agrees with "niveau"
    ("Age", {}, "fr", "bas", "niveau d'age bas"),
    ("TotalSales", {"TotalSales": {"en": "sales", "fr": "ventes"}}, "fr", "élevé", "niveau de ventes élevé"),
])
def test_level_phrases_agree_in_french(feature, labels, lang, word, phrase):
    assert level_phrase(feature, word, labels, lang) == phrase
