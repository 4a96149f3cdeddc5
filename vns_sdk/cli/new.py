"""`vns-sdk new NAME`: a ready-to-run project from the templates shipped in ``vns_sdk/cli/templates/project``.

Template files are rendered with `string.Template` (``$package``, ``${project_name}``; ``$$`` is a dollar sign).
File names map as: ``__package__`` -> the package name, ``dot-x`` -> ``.x``, and ``.tmpl`` is dropped.
"""

from __future__ import annotations

import keyword
import re
import string
import sys
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vns_sdk.cli._command import Command
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["COMMAND", "new", "render_project"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9]$|^[A-Za-z]$")
# Packages a project must not shadow: importing them from the project folder would load the project instead.
_RESERVED = {"vns_sdk", "test", "tests", "pydantic", "starlette", "httpx", "typer", "uvicorn", "pytest", "app"}


def _package_name(project_name: str) -> str:
    if not _NAME.match(project_name):
        raise CLIError(
            f"{project_name!r} is not a valid project name: use letters, digits, '-' and '_', "
            "starting with a letter (for example: my-agent)",
            exit_code=2,
        )
    package = project_name.replace("-", "_").lower()
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    if keyword.iskeyword(package) or package in _RESERVED or package in stdlib:
        raise CLIError(
            f"{project_name!r} would make a package named {package!r}, which shadows another module; "
            "pick another name (for example: my-agent)",
            exit_code=2,
        )
    return package


def _template_root() -> Traversable:
    return files("vns_sdk.cli") / "templates" / "project"


def _target_name(name: str, package: str) -> str:
    name = name.replace("__package__", package)
    if name.startswith("dot-"):
        name = "." + name[len("dot-") :]
    return name.removesuffix(".tmpl")


def _walk(folder: Traversable, relative: Path, package: str) -> list[tuple[Path, Traversable]]:
    found: list[tuple[Path, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
            continue
        target = relative / _target_name(entry.name, package)
        if entry.is_dir():
            found.extend(_walk(entry, target, package))
        else:
            found.append((target, entry))
    return found


def render_project(project_name: str) -> dict[Path, str]:
    """The files of a new project, rendered in memory.

    Args:
        project_name: The distribution name (``my-agent``); the package is the same with ``-`` turned to ``_``.

    Returns:
        Relative path -> file content.

    Raises:
        CLIError: `project_name` is not a valid project name.
    """
    from vns_sdk import __version__

    package = _package_name(project_name)
    variables = {
        "project_name": project_name,
        "package": package,
        "title": project_name.replace("-", " ").replace("_", " ").title(),
        "vns_sdk_version": __version__,
    }
    return {
        target: string.Template(source.read_text(encoding="utf-8")).substitute(variables)
        for target, source in _walk(_template_root(), Path(), package)
    }


def new(
    name: Annotated[
        str,
        typer.Argument(
            help="The project name (my-agent) or a path ending in it; the package is the name with '-' as '_'.",
            show_default=False,
            metavar="NAME",
        ),
    ],
) -> None:
    """Create a new voice-agent project: an app with two tools, tests, a README, a Dockerfile.

    The folder must not exist or must be empty.
    """
    target = Path(name).expanduser()
    project_name = target.resolve().name if name in (".", "..") else target.name
    rendered = render_project(project_name)
    if target.exists():
        if not target.is_dir():
            raise CLIError(f"{name}: exists and is not a folder")
        if any(target.iterdir()):
            raise CLIError(f"{name}: the folder is not empty; pick a new name or an empty folder")
    for relative, content in rendered.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")

    package = _package_name(project_name)
    typer.echo(f"Created {project_name} in {target}/")
    typer.echo(f"  {package}/app.py     the agent: instructions, two tools, CallStart and CallEnd handlers")
    typer.echo("  tests/              tests that run whole calls offline (pytest), and a scenario file")
    typer.echo("  README.md           how to run it and the URLs to give VNS support")
    typer.echo("")
    typer.echo("Next:")
    if target.resolve() != Path.cwd().resolve():
        typer.echo(f"  cd {name}")
    typer.echo("  pip install -e '.[dev]'")
    typer.echo("  pytest              # the project's tests pass as generated")
    typer.echo("  vns-sdk call        # talk to the agent's tools in a simulated call")
    typer.echo("  vns-sdk dev         # serve it (set VNS_WEBHOOK_TOKEN and OPENAI_API_KEY first; see .env.example)")


COMMAND = Command(
    name="new",
    function=new,
    panel="Project",
    epilog=(
        "Examples:\n\n"
        "  vns-sdk new my-agent\n"
        "  vns-sdk new ~/code/front-desk\n"
        "  cd my-agent && pip install -e '.\\[dev]' && pytest"
    ),
)
