"""Find the user's `VNSApp` from what they typed: a file, a folder, ``module:attr``, or the project's config.

```
vns-sdk dev examples/lookup/app.py     # file: imported as module `app` from examples/lookup, attribute `app`
vns-sdk dev examples/lookup            # folder: its app.py
vns-sdk dev my_agent/app.py            # file inside a package: imported as `my_agent.app` from the project root
vns-sdk dev my_agent.app:app           # module:attr, imported from the current folder
vns-sdk dev                            # [tool.vns-sdk] app = "my_agent.app:app" in ./pyproject.toml
```
"""

from __future__ import annotations

import importlib
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.app import VNSApp

__all__ = [
    "AppSpec",
    "find_app_spec",
    "load_app",
    "load_env_file",
    "open_app",
    "prepare_environment",
    "read_project_config",
]

DEFAULT_ATTR = "app"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HINT = 'pass APP (a file like app.py, or module:attr) or set [tool.vns-sdk] app = "module:attr" in pyproject.toml'


@dataclass(frozen=True)
class AppSpec:
    """Where an app lives.

    Attributes:
        module: The dotted module name to import.
        attr: The attribute of that module that holds the app.
        app_dir: The folder to put first on ``sys.path`` so the module imports.
        path: The file the user named, when they named one.
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
    """
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            table = _vns_table(pyproject)
            if table is not None:
                return table, candidate
    return None


def _vns_table(pyproject: Path) -> dict[str, Any] | None:
    text = pyproject.read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CLIError(f"{pyproject}: not valid TOML: {exc}") from exc
        table = data.get("tool", {}).get("vns-sdk")
        return table if isinstance(table, dict) else None
    # Python 3.10 has no TOML parser; the table is small, so read its `key = "value"` lines.
    match = re.search(r"^\[tool\.(?:\"vns-sdk\"|vns-sdk)\][ \t]*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if match is None:
        return None
    pairs = re.findall(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*\"([^\"]*)\"", match.group(1), re.M)
    return dict(pairs)


def find_app_spec(app: str | None, *, cwd: Path | None = None) -> AppSpec:
    """Turn what the user typed (or the project's config) into an `AppSpec`.

    Args:
        app: A path to a ``.py`` file or a folder holding ``app.py`` (optionally ``:attr``), ``module:attr``,
            or None to read ``[tool.vns-sdk] app`` from pyproject.toml.
        cwd: The folder relative paths start from (the current folder by default).

    Returns:
        Where to import the app from.

    Raises:
        CLIError: The file or folder does not exist, or no app is given and the project sets none.
    """
    cwd = (cwd or Path.cwd()).resolve()
    if app is None:
        found = read_project_config(cwd)
        if found is None or not found[0].get("app"):
            raise CLIError(f"no app given and no [tool.vns-sdk] app in pyproject.toml: {_HINT}")
        table, root = found
        configured = table["app"]
        if not isinstance(configured, str):
            raise CLIError(f"{root / 'pyproject.toml'}: [tool.vns-sdk] app must be a string like 'module:attr'")
        return _spec_from_text(configured, root)
    return _spec_from_text(app, cwd)


def _spec_from_text(text: str, root: Path) -> AppSpec:
    target, _, attr = text.partition(":")
    # A Windows drive letter ("C:\...") is a path, not module:attr.
    if len(target) == 1 and attr[:1] in ("\\", "/"):
        target, attr = text, ""
    attr = attr or DEFAULT_ATTR
    if not _IDENTIFIER.match(attr):
        raise CLIError(f"{text!r}: {attr!r} is not a Python name; write module:attr or path/to/app.py:attr")
    looks_like_path = target.endswith(".py") or "/" in target or "\\" in target or target in (".", "..")
    if looks_like_path or (root / target).is_dir() or (root / target).is_file():
        return _spec_from_path(root / target, attr, shown=target)
    if not all(_IDENTIFIER.match(part) for part in target.split(".")):
        raise CLIError(f"{text!r} is neither a file nor module:attr; {_HINT}")
    return AppSpec(module=target, attr=attr, app_dir=root)


def _spec_from_path(path: Path, attr: str, *, shown: str) -> AppSpec:
    if path.is_dir():
        if not (path / "app.py").is_file():
            raise CLIError(f"{shown}: no app.py in this folder; pass the file that defines the app")
        path = path / "app.py"
    elif not path.is_file():
        raise CLIError(f"{shown}: no such file")
    elif path.suffix != ".py":
        raise CLIError(f"{shown}: not a Python file")
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
        raise CLIError(f"{shown}: the file name is not an importable Python module name")
    return AppSpec(module=".".join(parts), attr=attr, app_dir=folder, path=path)


def load_app(spec: AppSpec) -> VNSApp:
    """Import the module and return its `VNSApp`.

    Args:
        spec: Where the app lives (from `find_app_spec`).

    Returns:
        The app.

    Raises:
        CLIError: The module does not import, the attribute is missing, or it is not a `VNSApp`.
        ConfigurationError: The app itself rejected its settings (a missing token, for example).
    """
    from vns_sdk.app import VNSApp
    from vns_sdk.exceptions import VNSError

    app_dir = str(spec.app_dir)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    loaded = sys.modules.get(spec.module)
    if spec.path is not None and loaded is not None and getattr(loaded, "__file__", None) != str(spec.path):
        # Another file with the same module name (an `app.py` elsewhere) was imported before: load this one.
        del sys.modules[spec.module]
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and (spec.module == exc.name or spec.module.startswith(exc.name + ".")):
            raise CLIError(f"cannot import module {spec.module!r} from {spec.app_dir}; {_HINT}") from exc
        raise CLIError(f"importing {spec.module!r} failed: {exc}") from exc
    except VNSError:
        raise
    except Exception as exc:
        raise CLIError(f"importing {spec.module!r} failed: {_one_line(exc)}") from exc
    try:
        app = getattr(module, spec.attr)
    except AttributeError:
        found = sorted(name for name, value in vars(module).items() if isinstance(value, VNSApp))
        hint = f"; it defines: {', '.join(found)}" if found else "; it defines no VNSApp"
        raise CLIError(f"module {spec.module!r} has no attribute {spec.attr!r}{hint}") from None
    if not isinstance(app, VNSApp):
        raise CLIError(f"{spec.import_string} is a {type(app).__name__}, not a VNSApp")
    return app


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


def load_env_file(path: Path) -> list[str]:
    """Put the ``KEY=value`` lines of a ``.env`` file into ``os.environ``; variables already set win.

    The app reads its settings from the environment; reading ``.env`` here means ``cp .env.example .env`` is
    all the setup a project needs, and a server started with reload inherits the variables.

    Args:
        path: The file (``KEY=value`` lines; ``#`` comments, blank lines, ``export`` and quotes allowed).

    Returns:
        The names of the variables it set.
    """
    import os

    names: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if key and key not in os.environ:
            os.environ[key] = value
            names.append(key)
    return names


def prepare_environment(env_file: Path | None = None, *, simulated: bool = False) -> None:
    """Read the ``.env`` file, and give an app that is only simulated the token it needs to be built.

    Args:
        env_file: A ``.env`` file to read; by default ``./.env`` when it exists.
        simulated: The app is never served by this process (simulated calls, inspection, dialing). An app
            with no webhook credential refuses to be built; here a throwaway token stands in, so a fresh
            project can be tried before it has secrets.
    """
    import os

    if env_file is not None:
        if not env_file.is_file():
            raise CLIError(f"{env_file}: no such file")
        load_env_file(env_file)
    elif Path(".env").is_file():
        load_env_file(Path(".env"))
    if simulated and not any(
        os.environ.get(name) for name in ("VNS_WEBHOOK_TOKEN", "VNS_WEBHOOK_BASIC_AUTH", "VNS_INSECURE_DEV")
    ):
        import secrets

        os.environ["VNS_WEBHOOK_TOKEN"] = f"simulated-{secrets.token_urlsafe(24)}"


def open_app(app: str | None, *, env_file: Path | None = None, simulated: bool = False) -> tuple[AppSpec, VNSApp]:
    """Find, configure and import the app a command works on.

    Args:
        app: What the user typed (see `find_app_spec`), or None for the project's config.
        env_file: A ``.env`` file to read first; by default ``./.env`` when it exists.
        simulated: The app is only simulated in this process (see `prepare_environment`).

    Returns:
        Where the app lives, and the app.
    """
    prepare_environment(env_file, simulated=simulated)
    spec = find_app_spec(app)
    return spec, load_app(spec)
