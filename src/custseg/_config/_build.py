"""One RunConfig from the three places settings come from: custseg.toml, a preset, options."""

from __future__ import annotations

from pathlib import Path

from .._cluster._segmenter import parse_k_range
from ._columns import ColumnMapping, load_toml, mapping_from_config, preset as named_preset
from ._run import RunConfig


def column_mapping(file_config: dict, preset: str | None, roles: dict) -> ColumnMapping:
    """The mapping: a preset and/or the TOML [columns] table, then role options on top."""
    base = named_preset(preset) if preset else None
    if file_config.get("columns") or base is None:
        first = {"customer": roles["customer"]} if base is None and roles.get("customer") and not file_config.get("columns") else {}
        base = mapping_from_config({"columns": {**file_config.get("columns", {}), **first}}, base)
    return base.with_overrides(**roles)


def build_run_config(config_file: str | Path | None = None, *, preset: str | None = None, customers: bool = False,
                     roles: dict | None = None, settings: dict | None = None, **fixed) -> RunConfig:
    """A RunConfig: [run] of `config_file`, overridden by the non-None `settings`, plus `fixed` fields.

    >>> build_run_config(preset="online-retail", settings={"k": 4}).k
    4
    """
    from .._workflows._rfm import expand_feature_sets

    file_config = load_toml(config_file) if config_file else {}
    merged = dict(file_config.get("run", {})) | {k: v for k, v in (settings or {}).items() if v is not None}
    if isinstance(merged.get("k_range"), str):
        merged["k_range"] = parse_k_range(merged["k_range"])
    if merged.get("features"):
        merged["features"] = expand_feature_sets(merged["features"])
    for key in ("columns", "spark_conf"):
        if isinstance(merged.get(key), list):
            merged[key] = tuple(merged[key])
    mapping = None if customers else column_mapping(file_config, preset, roles or {})
    return RunConfig(mapping=mapping, customers=customers, **merged, **fixed)
