"""Reading TOML: custseg.toml and the editable rules tables (bundled or a user's copy), one way."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from .._errors import UsageError


def read_toml(path: str | Path | None, what: str = "config file", bundled: str | None = None) -> dict:
    """The TOML at `path`, or the bundled `custseg/<bundled>` when `path` is None; one-line errors naming `what`.

    >>> read_toml(None, "rules file", "data/segment_rules.toml")["rule"][0]["id"] != ""
    True
    """
    try:
        if path is None:
            text = resources.files("custseg").joinpath(bundled).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise UsageError(f"{what} {path} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {path} is not valid TOML: {exc}") from None
