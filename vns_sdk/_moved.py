"""Old module paths that moved in 0.2, kept importable with a `DeprecationWarning` until 0.3.

The public names never moved: they are where `__all__` says (``vns_sdk``, ``vns_sdk.app``,
``vns_sdk.tools``, ``vns_sdk.testing``, ...). Modules that were not meant as API became private in 0.2;
code that imported one of them by its old path keeps working, and is told where the name lives now.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "install"]

MOVED = {
    "vns_sdk.app.settings": "vns_sdk.settings",
    "vns_sdk.tools.errors": "vns_sdk.exceptions",
    "vns_sdk.tools.invoke": "vns_sdk.tools",
    "vns_sdk.tools.router": "vns_sdk.tools",
    "vns_sdk.tools.tool": "vns_sdk.tools",
    "vns_sdk.tools.builtins": "vns_sdk.tools",
    "vns_sdk.testing.errors": "vns_sdk.exceptions",
    "vns_sdk.testing.simulator": "vns_sdk.testing",
    "vns_sdk.testing.scenario": "vns_sdk.testing",
    "vns_sdk.testing.transcript": "vns_sdk.testing",
    "vns_sdk.testing.assertions": "vns_sdk.testing",
    "vns_sdk.testing.exchange": "vns_sdk.testing",
    "vns_sdk.testing.loader": "vns_sdk.testing",
    "vns_sdk.testing.core": "vns_sdk.testing",
}
"""Old module path -> the public module that holds its public names now."""


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        target = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} is gone since vns-sdk 0.2: import its public names from {target}",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(target)

    def exec_module(self, module: ModuleType) -> None:
        pass  # the target module is already imported


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
    """Let the old module paths be imported (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
