"""The command line's side of finding the user's `VNSApp`: the ``.env`` file, and one-line errors.

What the user may type (the loading itself is `vns_sdk._loading`, shared with the test harness):

```
vns-sdk dev examples/appointments/app.py  # file: imported as module `app` from its folder, attribute `app`
vns-sdk dev examples/appointments    # folder: its app.py
vns-sdk dev my_agent/app.py            # file inside a package: imported as `my_agent.app` from the project root
vns-sdk dev my_agent.app:app           # module:attr, imported from the current folder
vns-sdk dev                            # [tool.vns-sdk] app = "my_agent.app:app" in ./pyproject.toml
```
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vns_sdk import _loading
from vns_sdk._loading import AppLoadError, AppSpec
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.app import VNSApp

__all__ = [
    "AppSpec",
    "find_app_spec",
    "load_app",
    "open_app",
    "prepare_environment",
    "read_project_config",
]


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    # A reference that names nothing importable is the user's mistake: one line, exit 1. (An app that rejects
    # its own settings raises ConfigurationError itself, which commands may explain further.)
    try:
        yield
    except AppLoadError as exc:
        raise CLIError(str(exc)) from exc


def read_project_config(folder: Path) -> tuple[dict[str, Any], Path] | None:
    """The ``[tool.vns-sdk]`` table of the nearest pyproject.toml at or above `folder`, and that folder.

    Raises:
        CLIError: A pyproject.toml on the way is not valid TOML.
    """
    with _one_line_errors():
        return _loading.read_project_config(folder)


def find_app_spec(app: str | None, *, cwd: Path | None = None) -> AppSpec:
    """Turn what the user typed (or the project's config) into an `AppSpec`.

    Args:
        app: A path to a ``.py`` file or a folder holding ``app.py`` (optionally ``:attr``), ``module:attr``,
            or None to read ``[tool.vns-sdk] app`` from pyproject.toml.
        cwd: The folder relative paths start from (the current folder by default).

    Raises:
        CLIError: The file or folder does not exist, or no app is given and the project sets none.
    """
    with _one_line_errors():
        return _loading.find_app_spec(app, base_dir=cwd)


def load_app(spec: AppSpec) -> VNSApp:
    """Import the module and return its `VNSApp`.

    Raises:
        CLIError: The module does not import, the attribute is missing, or it is not a `VNSApp`.
        ConfigurationError: The app itself rejected its settings (a missing token, for example).
    """
    with _one_line_errors():
        app: VNSApp = _loading.import_app(spec, require_app=True)
    return app


def prepare_environment(env_file: Path | None = None, *, simulated: bool = False) -> None:
    """Read the ``.env`` file, and give an app that is only simulated the token it needs to be built.

    Args:
        env_file: A ``.env`` file to read (``KEY=value`` lines; ``#`` comments, ``export`` and quotes
            allowed); by default ``./.env`` when it exists.
        simulated: The app is never served by this process (simulated calls, inspection, dialing). An app
            with no webhook credential refuses to be built; here a throwaway token stands in, so a fresh
            project can be tried before it has secrets.
    """
    if env_file is None and Path(".env").is_file():
        env_file = Path(".env")
    if env_file is not None:
        if not env_file.is_file():
            raise CLIError(f"{env_file}: no such file")
        from dotenv import load_dotenv

        # Into os.environ, where the settings are read (a server started with reload inherits them); variables
        # already set win, and values are taken as written, as `docker run --env-file` takes them.
        load_dotenv(env_file, override=False, interpolate=False, encoding="utf-8")
    if simulated:
        from vns_sdk.testing._credential import stand_in_webhook_token

        # Through the environment, where the app (imported next) reads its settings; pytest does the same.
        stand_in_webhook_token()


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
