"""Find and import an app from a reference: a file, a folder, ``module:attr``, or the project's pyproject.toml.

```
examples/lookup/app.py          # file: its `app`
examples/lookup                 # folder: its app.py
my_agent/app.py                 # file inside a package: imported as `my_agent.app`, so relative imports work
my_agent.app:app                # module:attr, imported from the base folder
app.py:calendar                 # any attribute, not only the app (``a.b`` for nested ones)
(nothing)                       # [tool.vns-sdk] app = "my_agent.app:app" in the nearest pyproject.toml
```

A file outside any package is imported as its stem (``app``), from its folder, as uvicorn imports it; with
``isolate=True`` (the test harness) under a name unique to its path instead, so that two projects' ``app.py``
never shadow each other in one test run. The command line and the test harness (scenario files, the pytest
plugin) both load apps here.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import Any

from vns_sdk.exceptions import ConfigurationError, VNSError

__all__ = [
    "DEFAULT_ATTR",
    "AppLoadError",
    "AppSpec",
    "default_app_reference",
    "find_app_spec",
    "import_app",
    "load_app",
    "project_app_reference",
    "pytest_app_reference",
    "read_project_config",
]

DEFAULT_ATTR = "app"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HINT = 'pass APP (a file like app.py, or module:attr) or set [tool.vns-sdk] app = "module:attr" in pyproject.toml'


class AppLoadError(ConfigurationError):
    """The app reference names nothing importable (as opposed to an app that rejects its own settings)."""


@dataclass(frozen=True)
class AppSpec:
    """Where an app lives.

    Attributes:
        module: The dotted module name to import (for a file outside a package, its stem).
        attr: The attribute of that module that holds the app (dotted for a nested one).
        app_dir: The folder to put first on ``sys.path`` so the module imports.
        path: The file the reference named, when it named one.
    """

    module: str
    attr: str
    app_dir: Path
    path: Path | None = None

    @property
    def import_string(self) -> str:
        """``module:attr``, as uvicorn takes it."""
        return f"{self.module}:{self.attr}"


def read_project_config(folder: Path) -> tuple[dict[str, Any], Path] | None:
    """The ``[tool.vns-sdk]`` table of the nearest pyproject.toml at or above `folder`.

    Args:
        folder: Where to start looking.

    Returns:
        The table and the folder holding that pyproject.toml, or None when no pyproject.toml has the table.

    Raises:
        AppLoadError: A pyproject.toml on the way is not valid TOML.
    """
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            table = _vns_table(pyproject)
            if table is not None:
                return table, candidate
    return None


def project_app_reference(folder: Path) -> tuple[str, Path] | None:
    """The ``[tool.vns-sdk] app`` of the nearest project at or above `folder`, and that project's folder.

    Returns:
        None when no pyproject.toml names an app.

    Raises:
        AppLoadError: The pyproject.toml is not valid TOML, or its ``app`` is not a string.
    """
    found = read_project_config(folder)
    if found is None or not found[0].get("app"):
        return None
    table, root = found
    if not isinstance(table["app"], str):
        raise AppLoadError(f"{root / 'pyproject.toml'}: [tool.vns-sdk] app must be a string like 'module:attr'")
    return table["app"], root


def _vns_table(pyproject: Path) -> dict[str, Any] | None:
    return _toml_table(pyproject, "vns-sdk")


def _toml_table(pyproject: Path, name: str) -> dict[str, Any] | None:
    """The ``[tool.<name>]`` table of a pyproject.toml, or None."""
    text = pyproject.read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AppLoadError(f"{pyproject}: not valid TOML: {exc}") from exc
        table: Any = data.get("tool", {})
        for part in name.split("."):
            table = table.get(part) if isinstance(table, dict) else None
        return table if isinstance(table, dict) else None
    # Python 3.10 has no TOML parser; the tables read here are small, so read their `key = "value"` lines.
    header = r"\.".join(rf"(?:\"{re.escape(part)}\"|{re.escape(part)})" for part in name.split("."))
    match = re.search(rf"^\[tool\.{header}\][ \t]*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if match is None:
        return None
    pairs = re.findall(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*\"([^\"]*)\"", match.group(1), re.M)
    return dict(pairs)


def pytest_app_reference(folder: Path) -> tuple[str, Path] | None:
    """The ``vns_app`` option of the pytest configuration pytest would read at or above `folder`, and its folder.

    pytest's own search: the nearest ``pytest.ini``, ``pyproject.toml`` with ``[tool.pytest.ini_options]``,
    ``tox.ini`` with ``[pytest]`` or ``setup.cfg`` with ``[tool:pytest]`` is the configuration.

    Returns:
        None when that configuration sets no ``vns_app`` (or there is none).
    """
    import configparser

    for candidate in (folder, *folder.parents):
        for name, section in (
            ("pytest.ini", "pytest"),
            ("pyproject.toml", None),
            ("tox.ini", "pytest"),
            ("setup.cfg", "tool:pytest"),
        ):
            path = candidate / name
            if not path.is_file():
                continue
            if section is None:
                table = _toml_table(path, "pytest.ini_options")
                if table is None:
                    continue
                value = table.get("vns_app")
            else:
                parser = configparser.ConfigParser(interpolation=None)
                try:
                    parser.read(path, encoding="utf-8")
                except configparser.Error as exc:
                    raise AppLoadError(f"{path}: not a valid ini file: {exc}") from exc
                if not parser.has_section(section) and name != "pytest.ini":
                    continue
                value = parser.get(section, "vns_app", fallback=None)
            reference = str(value or "").strip()
            return (reference, candidate) if reference else None
    return None


def default_app_reference(folder: Path) -> tuple[str, Path] | None:
    """The app a project names for its simulated calls: pytest's ``vns_app`` option, else ``[tool.vns-sdk] app``.

    The pytest plugin and ``vns-sdk test`` both find the app of a scenario that names none this way.

    Returns:
        The reference and the folder it is relative to, or None when the project names no app.
    """
    return pytest_app_reference(folder) or project_app_reference(folder)


def find_app_spec(reference: str | None, *, base_dir: str | PathLike[str] | None = None) -> AppSpec:
    """Turn a reference (or the project's config) into an `AppSpec`.

    Args:
        reference: A path to a ``.py`` file or a folder holding ``app.py`` (optionally ``:attr``),
            ``module:attr``, or None to read ``[tool.vns-sdk] app`` from the nearest pyproject.toml.
        base_dir: Where relative paths start and modules are searched (default: the current folder).

    Returns:
        Where to import the app from.

    Raises:
        AppLoadError: The file or folder does not exist, or no app is given and the project sets none.
    """
    base = Path(base_dir if base_dir is not None else Path.cwd()).resolve()
    if reference is None:
        found = project_app_reference(base)
        if found is None:
            raise AppLoadError(f"no app given and no [tool.vns-sdk] app in pyproject.toml: {_HINT}")
        reference, base = found
    return _spec_from_text(reference, base)


def _spec_from_text(text: str, root: Path) -> AppSpec:
    target, _, attr = text.partition(":")
    # A Windows drive letter ("C:\...") is a path, not module:attr.
    if len(target) == 1 and attr[:1] in ("\\", "/"):
        target, attr = text, ""
    attr = attr or DEFAULT_ATTR
    if not all(_IDENTIFIER.match(part) for part in attr.split(".")):
        raise AppLoadError(f"{text!r}: {attr!r} is not a Python name; write module:attr or path/to/app.py:attr")
    looks_like_path = target.endswith(".py") or "/" in target or "\\" in target or target in (".", "..")
    if looks_like_path or (root / target).is_dir() or (root / target).is_file():
        return _spec_from_path(root / target, attr, shown=target)
    if not all(_IDENTIFIER.match(part) for part in target.split(".")):
        raise AppLoadError(f"{text!r} is neither a file nor module:attr; {_HINT}")
    return AppSpec(module=target, attr=attr, app_dir=root)


def _spec_from_path(path: Path, attr: str, *, shown: str) -> AppSpec:
    if path.is_dir():
        if not (path / "app.py").is_file():
            raise AppLoadError(f"{shown}: no app.py in this folder; pass the file that defines the app")
        path = path / "app.py"
    elif not path.is_file():
        raise AppLoadError(f"{shown}: no such file")
    elif path.suffix != ".py":
        raise AppLoadError(f"{shown}: not a Python file")
    path = path.resolve()
    # A file inside a package imports by its dotted name from above the package, so relative imports work.
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and _IDENTIFIER.match(folder.name):
        parts.insert(0, folder.name)
        folder = folder.parent
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(_IDENTIFIER.match(part) for part in parts):
        raise AppLoadError(f"{shown}: the file name is not an importable Python module name")
    return AppSpec(module=".".join(parts), attr=attr, app_dir=folder, path=path)


def import_app(spec: AppSpec, *, require_app: bool = False, isolate: bool = False) -> Any:
    """Import the module a spec names and return its attribute.

    Args:
        spec: Where the app lives (from `find_app_spec`).
        require_app: Fail unless the attribute is a `VNSApp`.
        isolate: Import a file outside any package under a name unique to its path (not its stem).

    Returns:
        The attribute (the app, or whatever else the reference named).

    Raises:
        AppLoadError: The module does not import, the attribute is missing, or (with ``require_app``) it is
            not a `VNSApp`.
        VNSError: The module raised it while importing (an app rejecting its settings, for example).
    """
    from vns_sdk.app import VNSApp

    try:
        module = _import_module(spec, isolate=isolate)
    except ModuleNotFoundError as exc:
        if exc.name and (spec.module == exc.name or spec.module.startswith(exc.name + ".")):
            raise AppLoadError(f"cannot import module {spec.module!r} from {spec.app_dir}; {_HINT}") from exc
        raise AppLoadError(f"importing {spec.module!r} failed: {exc}") from exc
    except VNSError:
        raise
    except Exception as exc:
        raise AppLoadError(f"importing {spec.module!r} failed: {_one_line(exc)}") from exc
    value: Any = module
    for part in spec.attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            found = sorted(name for name, item in vars(module).items() if isinstance(item, VNSApp))
            hint = f"; it defines: {', '.join(found)}" if found else "; it defines no VNSApp"
            raise AppLoadError(f"module {spec.module!r} has no attribute {spec.attr!r}{hint}") from None
    if require_app and not isinstance(value, VNSApp):
        raise AppLoadError(f"{spec.import_string} is a {type(value).__name__}, not a VNSApp")
    return value


def load_app(
    reference: str | None,
    *,
    base_dir: str | PathLike[str] | None = None,
    require_app: bool = False,
    isolate: bool = False,
) -> Any:
    """Import what a reference names: `find_app_spec` then `import_app`.

    Args:
        reference: See `find_app_spec` (None: the project's ``[tool.vns-sdk] app``).
        base_dir: Where relative paths start and modules are searched (default: the current folder).
        require_app: Fail unless the attribute is a `VNSApp`.
        isolate: Import a file outside any package under a name unique to its path (not its stem).

    Raises:
        AppLoadError: Nothing importable is found (see `find_app_spec` and `import_app`).
    """
    return import_app(find_app_spec(reference, base_dir=base_dir), require_app=require_app, isolate=isolate)


def _import_module(spec: AppSpec, *, isolate: bool) -> ModuleType:
    app_dir = str(spec.app_dir)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    if isolate and spec.path is not None and spec.module == spec.path.stem:
        return _import_file(spec.path)
    loaded = sys.modules.get(spec.module)
    if spec.path is not None and loaded is not None and getattr(loaded, "__file__", None) != str(spec.path):
        # Another file with the same module name was imported before: load this one.
        del sys.modules[spec.module]
    return importlib.import_module(spec.module)


def _import_file(path: Path) -> ModuleType:
    # A name unique to the file, so two projects' app.py files never shadow each other.
    name = f"_vns_app_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise AppLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _one_line(exc: BaseException) -> str:
    """``Type: message (file.py, line N)``, pointing at the innermost frame of the user's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    user_frames = [frame for frame in frames if "importlib" not in frame.filename]
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({Path(exc.filename).name}, line {exc.lineno})"
    elif user_frames:
        last = user_frames[-1]
        where = f" ({Path(last.filename).name}, line {last.lineno})"
    text = str(exc.msg if isinstance(exc, SyntaxError) else exc)
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"
