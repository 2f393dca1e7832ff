"""Names of a package loaded on first use (PEP 562), so that `custseg --help` does not import what a command needs."""

from __future__ import annotations

import sys
from importlib import import_module


def lazy_names(package: str, names: dict[str, str]):
    """`__getattr__` and `__dir__` for `package`: `names` maps each name to the module (relative) that defines it.

    The first access imports that module and keeps the value in the package's namespace.
    """
    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(names[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
