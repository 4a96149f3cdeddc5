"""Module paths that moved in 0.2 still import, with a DeprecationWarning naming the new place."""

from __future__ import annotations

import importlib
import sys

import pytest

from vns_sdk._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_imports_with_a_warning(old: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=rf"{old} is gone since vns-sdk 0.2: import its public names from"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])


def test_old_imports_give_the_same_objects() -> None:
    import vns_sdk.testing
    from vns_sdk import VNSSettings
    from vns_sdk.exceptions import ToolArgumentsError

    for name in ("vns_sdk.testing.simulator", "vns_sdk.app.settings", "vns_sdk.tools.errors"):
        sys.modules.pop(name, None)
    with pytest.warns(DeprecationWarning):
        from vns_sdk.testing.simulator import VNSSimulator  # type: ignore[import-not-found]
    with pytest.warns(DeprecationWarning):
        from vns_sdk.app.settings import VNSSettings as OldSettings  # type: ignore[import-not-found]
    with pytest.warns(DeprecationWarning):
        from vns_sdk.tools.errors import ToolArgumentsError as OldError  # type: ignore[import-not-found]
    assert VNSSimulator is vns_sdk.testing.VNSSimulator
    assert OldSettings is VNSSettings and OldError is ToolArgumentsError


def test_unknown_modules_are_still_missing() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("vns_sdk.testing.no_such_module")
