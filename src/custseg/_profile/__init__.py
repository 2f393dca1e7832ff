"""The profile stage: segments in business terms.

Profiles (`_profiles`: sizes, revenue, medians, v-tests, levels, paragons, names and texts),
v-tests and paragons (`_vtests`), levels (`_levels`), business words for features
(`_labels`), the rules table and its conditions (`_rules`), names, descriptions and actions
(`_naming`), top products (`_products`) and the per-(segment, feature) table every view of
the report reads (`_table`).
"""

from ._labels import BUSINESS_WORDS, humanise, label_of
from ._levels import level_of, segment_level
from ._naming import name_segments
from ._products import TOP_N, rank_products, segment_product_revenue, top_products
from ._profiles import segment_profiles
from ._rules import load_rules
from ._table import feature_table, matrix
from ._vtests import paragons, separation, vtests

__all__ = ["BUSINESS_WORDS", "TOP_N", "feature_table", "humanise", "label_of", "level_of", "load_rules", "matrix",
           "name_segments", "paragons", "rank_products", "segment_level", "segment_product_revenue", "segment_profiles",
           "separation", "top_products", "vtests"]
