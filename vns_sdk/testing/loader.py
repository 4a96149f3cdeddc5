"""`load_app`: find an ASGI app from a ``module:attribute`` or ``path/to/file.py:attribute`` reference."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk.exceptions import ConfigurationError

__all__ = ["load_app"]


def load_app(reference: str, *, base_dir: str | PathLike[str] | None = None) -> Any:
    """Import the app a reference names.

    Args:
        reference: ``package.module:attribute``, or ``path/to/app.py:attribute`` (``path/to/app.py`` alone
            means its ``app``). A file path is relative to `base_dir`; the file's directory is put on
            ``sys.path`` so that its own imports work, as with ``uvicorn --app-dir``.
        base_dir: Where relative paths start (default: the current directory), also searched for modules.

    Returns:
        The attribute (the app).

    Raises:
        ConfigurationError: The module, file or attribute cannot be found.
    """
    target, _, attribute = reference.partition(":")
    attribute = attribute or "app"
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _import_file((base / target).resolve(), reference)
    else:
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigurationError(f"Cannot import {target!r} (from app reference {reference!r}): {exc}") from exc
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ConfigurationError(
                f"{target!r} has no attribute {attribute!r} (from app reference {reference!r})"
            ) from None
    return value


def _import_file(path: Path, reference: str) -> Any:
    if not path.is_file():
        raise ConfigurationError(f"No such file: {path} (from app reference {reference!r})")
    # A name unique to the file, so two examples' app.py files never shadow each other.
    name = f"_vns_app_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"Cannot import {path} (from app reference {reference!r})")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
