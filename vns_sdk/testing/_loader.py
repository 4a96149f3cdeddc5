"""`load_app`: import an app (or anything else a module defines) from a reference, as the command line does."""

from __future__ import annotations

from os import PathLike
from typing import Any

from vns_sdk import _loading

__all__ = ["load_app"]


def load_app(reference: str, *, base_dir: str | PathLike[str] | None = None) -> Any:
    """Import what a reference names.

    Args:
        reference: ``package.module:attribute``, or ``path/to/app.py:attribute`` (``path/to/app.py`` alone, or
            its folder, means its ``app``; ``attribute`` may be dotted). A file path is relative to `base_dir`.
            A file outside any package is imported under a name unique to its path, so two examples' ``app.py``
            never shadow each other; its folder is put on ``sys.path`` so that its own imports work, as with
            ``uvicorn --app-dir``. A file inside a package is imported by its dotted name.
        base_dir: Where relative paths start (default: the current directory), also searched for modules.

    Returns:
        The attribute (the app).

    Raises:
        ConfigurationError: The module, file or attribute cannot be found, or the module fails to import.
    """
    return _loading.load_app(reference, base_dir=base_dir, isolate=True)
