"""One RunConfig builder: custseg.toml, a preset, command-line options, keywords and a saved model all go through it.

>>> build_run_config(preset="online-retail", settings={"k": 4, "features": ["rfm"]}).features
('RecencyDays', 'OrderCount', 'TotalSales')
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .._errors import UsageError
from ._columns import ColumnMapping, mapping_from_config, preset as named_preset
from ._options import CleaningRules, ReadOptions, expand_feature_sets, parse_as_of, parse_k_range
from ._run import RunConfig
from ._toml import read_toml

_TUPLES = ("features", "columns", "spark_conf", "k_range")


def load_toml(path: str | Path) -> dict:
    """Read a custseg.toml file (sections: [columns], [run], [salesforce], ...)."""
    return read_toml(path, "config file")


def column_mapping(file_config: dict, preset: str | None, roles: dict, saved: ColumnMapping | None = None) -> ColumnMapping:
    """The mapping: a preset (else `saved`, a model's) and/or the TOML [columns] table, then role options on top."""
    base = named_preset(preset) if preset else saved
    if file_config.get("columns") or base is None:
        first = {"customer": roles["customer"]} if base is None and roles.get("customer") and not file_config.get("columns") else {}
        base = mapping_from_config({"columns": {**file_config.get("columns", {}), **first}}, base)
    return base.with_overrides(**roles)


def _normalised(settings: dict) -> dict:
    """Settings as RunConfig takes them: as-of date (in the mapping's date formats too) and k range parsed,
    feature sets expanded, lists as tuples."""
    out = dict(settings)
    if isinstance(out.get("as_of"), str):
        mapping = out.get("mapping")
        out["as_of"] = parse_as_of(out["as_of"], mapping.date_format if mapping else None)
    if isinstance(out.get("k_range"), str):
        out["k_range"] = parse_k_range(out["k_range"])
    for key in _TUPLES:
        if isinstance(out.get(key), list | tuple):
            out[key] = tuple(out[key])
    if out.get("features"):
        out["features"] = expand_feature_sets(out["features"])
    return out


def build_run_config(config_file: str | Path | None = None, *, preset: str | None = None, customers: bool = False,
                     roles: dict | None = None, settings: dict | None = None, **fixed) -> RunConfig:
    """A RunConfig: [run] of `config_file`, overridden by the non-None `settings`, plus `fixed` fields."""
    file_config = load_toml(config_file) if config_file else {}
    merged = dict(file_config.get("run", {})) | {k: v for k, v in (settings or {}).items() if v is not None}
    mapping = None if customers else column_mapping(file_config, preset, roles or {})
    labels = {"labels": file_config["labels"]} if file_config.get("labels") else {}
    return RunConfig(customers=customers, **_normalised(merged | labels | fixed | {"mapping": mapping}))


def config_from_options(config: RunConfig | None, options: dict) -> RunConfig:
    """The Python API's config: a RunConfig as given, or one from keyword options (`preset=` names a mapping).

    >>> config_from_options(None, {"preset": "online-retail", "features": ["rfm"]}).features[0]
    'RecencyDays'
    """
    if config is not None:
        return config
    options = dict(options)
    if "preset" in options:
        options["mapping"] = named_preset(options.pop("preset"))
    return RunConfig(**_normalised(options))


def config_of_model(model: dict, *, config_file: str | Path | None = None, preset: str | None = None,
                    roles: dict | None = None, **changes) -> RunConfig:
    """The RunConfig a saved model was trained with (features, scaling, mapping...), with non-None `changes`.

    Next year's file is read as `run` reads one: `preset`, the [columns] table of `config_file`
    and `roles` (column options, date formats) change the saved mapping, as they would build
    one; `read` is a ReadOptions (used as is) or a dict of the saved reading options to change.
    """
    saved = dict(model["config"])
    saved["mapping"] = ColumnMapping.from_dict(saved["mapping"]) if saved.get("mapping") else None
    saved["read"] = ReadOptions(**saved["read"])
    roles = {key: value for key, value in (roles or {}).items() if value is not None}
    if saved["mapping"] is not None:
        saved["mapping"] = column_mapping(load_toml(config_file) if config_file else {}, preset, roles, saved["mapping"])
    elif preset or config_file or roles:
        raise UsageError("the model was trained on a per-customer table: column options (--preset, --config, "
                         "--customer...) do not apply; use --id to name its id column")
    if isinstance(changes.get("read"), dict):
        changes["read"] = replace(saved["read"], **{k: v for k, v in changes["read"].items() if v is not None})
    saved["cleaning"] = CleaningRules(**saved["cleaning"])
    saved["as_of"] = None  # recency is measured from the new data's own end
    saved["rates"] = None  # the rates of the training period are not the new period's: given again (--rates)
    saved.setdefault("k_rule", "silhouette")  # saved before the vote existed: refresh chooses k as it was chosen
    if saved.get("scaling") == "rank" and "ties" not in (model.get("scaler") or {}):
        saved["scaling"] = "rank-first"  # saved before the tie rule existed: ties were by row order
    saved.update({key: value for key, value in changes.items() if value is not None})
    return RunConfig(**_normalised(saved))

