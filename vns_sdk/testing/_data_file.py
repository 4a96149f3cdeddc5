"""Reading a test's data file (a scenario, a persona scenario): YAML or JSON into a mapping, and its shape checked.

One reader and one set of shape checks, so every file a test suite keeps says what is wrong in the same words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk.exceptions import ConfigurationError

__all__ = ["as_list", "as_mapping", "only_keys", "read_data_file"]


def read_data_file(path: str | PathLike[str]) -> Mapping[str, Any]:
    """The mapping a ``.json`` file (or a YAML file, any other suffix) holds; an empty file is an empty mapping.

    Raises:
        ConfigurationError: The file does not parse, or does not hold a mapping.
    """
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{source}: not valid JSON: {exc}") from exc
    else:
        import yaml  # only when a YAML file is read

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{source}: not valid YAML: {exc}") from exc
    return as_mapping(data, str(source))


def as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` as a mapping (``None`` is an empty one).

    Raises:
        ConfigurationError: It is something else.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    """``value`` as a list (``None`` is an empty one).

    Raises:
        ConfigurationError: It is something else.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigurationError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def only_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse a key of ``data`` outside ``allowed`` (a misspelt key would otherwise be ignored).

    Raises:
        ConfigurationError: Naming the unknown keys and the ones expected.
    """
    unknown = sorted(set(data) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed))
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(unknown)}; expected: {expected}")
