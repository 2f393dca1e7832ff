"""Settings: RunConfig, column roles and presets, option types, and the one builder every entry point uses."""

from ._build import build_run_config, column_mapping, config_from_options, config_of_model, load_toml
from ._columns import PRESETS, SALESFORCE_CPQ_FIELDS, ColumnMapping, preset
from ._options import (DEFAULT_FEATURES, DEFAULT_SEED, RFM_FEATURES, CleaningRules, ReadOptions, expand_feature_sets,
                       parse_k_range)
from ._run import RunConfig
from ._toml import read_toml

__all__ = ["DEFAULT_FEATURES", "DEFAULT_SEED", "PRESETS", "RFM_FEATURES", "SALESFORCE_CPQ_FIELDS", "CleaningRules",
           "ColumnMapping", "ReadOptions", "RunConfig", "build_run_config", "column_mapping", "config_from_options",
           "config_of_model", "expand_feature_sets", "load_toml", "parse_k_range", "preset", "read_toml"]
