"""`vns-sdk new`: the generated project is complete, loads, and its own tests pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

import vns_sdk
from vns_sdk.cli.new import render_project

REPO = Path(__file__).resolve().parents[2]

EXPECTED_FILES = {
    ".dockerignore",
    ".env.example",
    ".gitignore",
    "Dockerfile",
    "README.md",
    "pyproject.toml",
    "front_desk/__init__.py",
    "front_desk/app.py",
    "tests/scenarios/booking.vns.yaml",
    "tests/test_app.py",
}


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_creates_the_project(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("new", "front-desk")
    assert result.exit_code == 0, result.output
    root = tmp_path / "front-desk"
    assert files_under(root) == EXPECTED_FILES
    assert "cd front-desk" in result.stdout
    assert "pip install -e '.[dev]'" in result.stdout

    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "front-desk"
    assert pyproject["project"]["dependencies"] == [f"vns-sdk>={vns_sdk.__version__}"]
    assert "dev" in pyproject["project"]["optional-dependencies"]
    assert pyproject["tool"]["vns-sdk"]["app"] == "front_desk.app:app"
    # The pytest plugin reads [tool.vns-sdk] app too: the project names its app once.
    assert "vns_app" not in pyproject["tool"]["pytest"]["ini_options"]

    readme = (root / "README.md").read_text()
    for needed in ("/vns/call-start", "/vns/call-end", "/vns/tools", "Authorization: Bearer", "VNS_WEBHOOK_TOKEN"):
        assert needed in readme
    assert 'CMD ["vns-sdk", "serve", "front_desk.app:app", "--host", "0.0.0.0"' in (root / "Dockerfile").read_text()
    env_example = (root / ".env.example").read_text()
    assert "OPENAI_API_KEY=" in env_example and "VNS_WEBHOOK_TOKEN=" in env_example
    assert ".env" in (root / ".gitignore").read_text().splitlines()


def test_every_template_is_rendered() -> None:
    rendered = render_project("front-desk")
    assert {path.as_posix() for path in rendered} == EXPECTED_FILES
    for path, text in rendered.items():
        assert "${" not in text.replace("$${", "") or path.name == "README.md", path
        assert "__package__" not in text, path
    # The README shows shell variables, written $${...} in the template.
    assert "${VNS_PUBLIC_URL}/vns/call-start" in rendered[Path("README.md")]


def test_a_path_names_the_project_by_its_last_part(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("new", "code/my-agent")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "code/my-agent/my_agent/app.py").is_file()


def test_an_empty_folder_is_fine_and_dot_means_here(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "helpline").mkdir()
    monkeypatch.chdir(tmp_path / "helpline")
    result = run("new", ".")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "helpline/helpline/app.py").is_file()
    assert "cd ." not in result.stdout


def test_refuses_a_folder_that_is_not_empty(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    result = run("new", "busy")
    assert result.exit_code == 1
    assert result.stderr == "error: busy: the folder is not empty; pick a new name or an empty folder\n"
    assert files_under(tmp_path / "busy") == {"notes.txt"}


def test_refuses_a_file(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = run("new", "taken")
    assert result.exit_code == 1
    assert result.stderr == "error: taken: exists and is not a folder\n"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("1st-agent", "is not a valid project name"),
        ("my agent", "is not a valid project name"),
        ("agent-", "is not a valid project name"),
        ("café", "is not a valid project name"),
        ("class", "shadows another module"),
        ("json", "shadows another module"),
        ("vns-sdk", "shadows another module"),
        ("tests", "shadows another module"),
    ],
)
def test_validates_the_name(run: Callable[..., Result], tmp_path: Path, name: str, problem: str) -> None:
    result = run("new", name)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {name!r}")
    assert problem in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_the_generated_project_works_with_the_commands(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("new", "front-desk").exit_code == 0
    monkeypatch.chdir(tmp_path / "front-desk")
    tools = run("tools", "--json")
    assert tools.exit_code == 0, tools.output
    assert [tool["name"] for tool in json.loads(tools.stdout)] == [
        "end_conversation",
        "opening_hours",
        "book_appointment",
    ]
    scenarios = run("test", "tests/scenarios")
    assert scenarios.exit_code == 0, scenarios.output
    assert "The scenario passed." in scenarios.stdout


def test_the_generated_tests_pass(run: Callable[..., Result], tmp_path: Path) -> None:
    # With this checkout's vns-sdk: the generated tests and scenario file pass as they are.
    assert run("new", "front-desk").exit_code == 0
    root = tmp_path / "front-desk"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNS_") and k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = str(root)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout


def test_async_tests_run_in_a_generated_project(run: Callable[..., Result], tmp_path: Path) -> None:
    """An `async def` test added to a new project runs as it is: pytest-asyncio is configured."""
    assert run("new", "front-desk").exit_code == 0
    root = tmp_path / "front-desk"
    (root / "tests" / "test_mine.py").write_text(
        "async def test_mine(vns):\n"
        "    async with vns.acall() as call:\n"
        "        assert (await call.invoke('opening_hours', day='monday'))['open'] is True\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VNS_", "PYTEST_")) and k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = str(root)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "tests/test_mine.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.slow
def test_from_nothing_to_a_simulated_call(tmp_path: Path) -> None:
    """A new user's path: install vns-sdk, `vns-sdk new`, install the project, pytest, `vns-sdk call`."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VNS_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.pop("OPENAI_API_KEY", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def step(*args: str, cwd: Path = tmp_path, stdin: str | None = None) -> str:
        done = subprocess.run(list(args), cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    # Installed as a wheel (not editable), so this also checks that the templates ship in the package.
    step(python, "-m", "pip", "install", "-q", str(REPO))
    step(str(bin_dir / "vns-sdk"), "new", "my-agent")
    project = tmp_path / "my-agent"
    step(python, "-m", "pip", "install", "-q", "-e", ".[dev]", cwd=project)
    tests = step(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert "8 passed" in tests
    call = step(str(bin_dir / "vns-sdk"), "call", cwd=project, stdin='opening_hours {"day": "friday"}\n\n')
    assert '"closes": "15:00"' in call
    assert "Call ended (CallEnd sent)." in call
