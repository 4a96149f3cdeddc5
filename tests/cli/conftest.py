"""Fixtures for the command-line tests: a runner, a clean folder and environment, and small apps on disk."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from vns_sdk.cli.main import app

__all__: list[str] = []

TOKEN = "whk-test-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty folder with no VNS settings; undo what a command did to the environment and imports."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("VNS_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)
    environ = dict(os.environ)
    path = list(sys.path)
    modules = set(sys.modules)
    yield tmp_path
    # Commands load .env into os.environ and apps into sys.modules, as a process would; a test is not one.
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        module = sys.modules[name]
        if str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture(autouse=True)
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[object, ...], dict[str, object]]]:
    """What `uvicorn.run` was called with: no test really serves (it would block)."""
    import uvicorn

    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


@pytest.fixture
def run() -> Callable[..., Result]:
    """Invoke `vns-sdk` with arguments (and optional ``input=``); stdout and stderr are kept apart."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, prog_name="vns-sdk")

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a file (dedented) under the test's folder and return its path."""

    def write_file(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write_file


LOOKUP_APP = f'''
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from vns_sdk import CallContext, ToolError, VNSApp

app = VNSApp(
    instructions="You look up people.",
    webhook_token="{TOKEN}",
    openai_api_key="sk-test-openai-key-0123456789",
    end_conversation=True,
)

PEOPLE = {{"Ron Tanner": "+13035551212"}}


@app.tool
async def lookup_name_or_phone(
    call: CallContext,
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, object]:
    """Looks up the name of a person from a phone number or the phone number from a name.

    Args:
        name: Name of the person to search for.
        phone_number: Phone number to search, preferably in E.164 format like +13035551212
    """
    for full_name, number in PEOPLE.items():
        if (name and name.lower() in full_name.lower()) or phone_number == number:
            return {{"matchType": "name" if name else "phone", "contactFound": True,
                    "contactName": full_name, "phoneNumber": number}}
    return {{"contactFound": False}}


@app.tool
async def book(call: CallContext, day: Literal["monday", "tuesday"], hour: int, confirm: bool = False) -> dict:
    """Books a slot.

    Args:
        day: The day.
        hour: The hour, 0 to 23.
        confirm: Whether to confirm it.
    """
    if hour == 13:
        raise ToolError("Lunch time. Offer another hour.")
    call.state["booked"] = f"{{day}} {{hour}}"
    return {{"booked": True, "day": day, "hour": hour, "confirmed": confirm}}
'''


@pytest.fixture
def token() -> str:
    """The webhook token of the apps these tests write."""
    return TOKEN


@pytest.fixture
def lookup_source() -> str:
    """The source of the lookup app (``lookup_app`` writes it to ``agent/app.py``)."""
    return LOOKUP_APP


@pytest.fixture
def lookup_app(write: Callable[[str, str], Path]) -> Path:
    """``agent/app.py``: two tools and the built-in end_conversation, with a token and an OpenAI key."""
    return write("agent/app.py", LOOKUP_APP)
