"""The inspector in a real browser: Chromium, driven by Playwright, watching calls placed against a served app.

Debian's Chromium is used (``apt-get install chromium``; ``.ci/run`` installs it), launched by its path:
Playwright's own browser downloads are never needed. Without Chromium the test is skipped, unless the
``CI`` environment variable is set, where it fails.

The tests save their screenshots of the page into ``docs/images/inspector.png`` and
``docs/images/inspector-chat.png`` (the Observability page shows them) when ``VNS_UPDATE_SCREENSHOTS=1``;
otherwise into a temporary folder, so a test run leaves the tree clean. The chat's test points the app at
the scripted Realtime model, as an app is pointed at any endpoint (`RealtimeEndpoint`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from observe_support import OPENAI_KEY, WEBHOOK_TOKEN, ObservedAppFactory, chat_script

from vns_sdk import RealtimeEndpoint, VNSApp
from vns_sdk.testing import VNSSimulator, run_scenario
from vns_sdk.testing.realtime import ScriptedRealtimeServer

ROOT = Path(__file__).resolve().parents[2]
DOCS_IMAGES = ROOT / "docs" / "images"
GUID = "3f2c9a10-7b4e-4c55-9e21-6a8d0b1c2e3f"


def chromium() -> str:
    path = os.environ.get("VNS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        reason = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the browser test must run", pytrace=False)
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(app: VNSApp) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def served(observed_app: ObservedAppFactory) -> Iterator[str]:
    """The app with its inspector, served; yields its base URL."""
    with serving(observed_app(inspector=True, public_url=None)) as url:
        yield url


@pytest.fixture
def model() -> Iterator[ScriptedRealtimeServer]:
    """The scripted Realtime model, on a thread of its own."""
    with ScriptedRealtimeServer(chat_script(), api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture
def served_with_chat(observed_app: ObservedAppFactory, model: ScriptedRealtimeServer) -> Iterator[str]:
    """The app with its inspector, its Realtime endpoint the scripted model, served; yields its base URL."""
    endpoint = RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None))
    with serving(observed_app(inspector=True, public_url=None, realtime=endpoint)) as url:
        yield url


@contextlib.contextmanager
def browser_page(playwright: Any) -> Iterator[Any]:
    """A page of Debian's Chromium, signed in to the inspector as a browser signs in."""
    browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
    try:
        context = browser.new_context(
            http_credentials={"username": "developer", "password": WEBHOOK_TOKEN},
            viewport={"width": 1440, "height": 900},
            color_scheme="light",
        )
        yield context.new_page()
    finally:
        browser.close()


def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    """Save the page into docs/images/ when ``VNS_UPDATE_SCREENSHOTS=1``, else into ``tmp_path``."""
    shot = (DOCS_IMAGES if os.environ.get("VNS_UPDATE_SCREENSHOTS") == "1" else tmp_path) / name
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_inspector_in_a_browser(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright, browser_page(playwright) as page:
        page.goto(f"{served}/vns/inspector/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")

        # A call, placed while the page watches.
        vns = VNSSimulator(url=served, webhook_token=WEBHOOK_TOKEN)
        with vns, vns.call(session_guid=GUID, caller_id="3035550142", caller_id_name="Ada Lovelace") as call:
            tool_token = call.response.voice_elements_instructions.default_tools_url_base.headers["Authorization"]
            call.invoke("lookup_name_or_phone", name="Ron")
            call.invoke("check_order", order="A100")
            call.invoke("check_order", order="Z9")
            call.invoke("slow_search", query="invoices")
            call.invoke("end_conversation", user_input="Thanks, goodbye!")

        rows = page.locator(".row")
        expect(rows).to_have_count(7)  # CallStart, five tool calls, CallEnd
        expect(page.locator('.row[data-kind="call-end"] > summary .badge')).to_have_text("ok")
        expect(page.locator('.row[data-tool="slow_search"] > summary .badge')).to_have_text("timeout")
        expect(page.locator(".call")).to_have_count(1)
        expect(page.locator(".call .meta").first).to_contain_text("5 tool calls · ended")

        # Nothing secret on the page, not even in the closed details.
        html = page.content()
        for secret in (WEBHOOK_TOKEN, OPENAI_KEY, str(tool_token).removeprefix("Bearer ")):
            assert secret not in html
        assert "Bearer &lt;redacted&gt;" in html or "Bearer <redacted>" in html

        # Filtering by tool, then by call.
        page.select_option("#tool-filter", "check_order")
        expect(page.locator(".row:not(.hidden)")).to_have_count(2)
        page.click("#clear-filters")
        expect(page.locator(".row:not(.hidden)")).to_have_count(7)
        page.select_option("#call-filter", GUID)
        expect(page.locator(".row:not(.hidden)")).to_have_count(7)
        page.click("#clear-filters")

        # One tool call opened, for the screenshot: arguments, what the model hears, state changes, steps.
        page.locator('.row[data-tool="lookup_name_or_phone"] summary').click()
        expect(page.locator('.row[data-tool="lookup_name_or_phone"] .details')).to_contain_text("What the model hears")
        screenshot(page, "inspector.png", tmp_path)

        # The call, copied as a scenario file, passes against the app.
        page.locator(".call .copy-scenario").click()
        expect(page.locator("#copy-dialog")).to_be_visible()
        expect(page.locator("#copy-text")).to_have_value(_containing("steps:"))
        scenario = page.input_value("#copy-text")
        assert WEBHOOK_TOKEN not in scenario and OPENAI_KEY not in scenario

    # `vns-sdk test` runs it against the served app and passes; so does the harness in process.
    path = tmp_path / "copied.vns.yaml"
    path.write_text(scenario, encoding="utf-8")
    command = [str(Path(sys.executable).with_name("vns-sdk")), "test", str(path), "--url", served]
    env = {**os.environ, "VNS_WEBHOOK_TOKEN": WEBHOOK_TOKEN}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    result = run_scenario(path, url=served, webhook_token=WEBHOOK_TOKEN)
    assert result.ok, result.render()
    assert len(result.scenario.steps) == 5


def _containing(text: str) -> Any:
    import re

    return re.compile(re.escape(text))


def test_the_chat_in_a_browser(served_with_chat: str, model: ScriptedRealtimeServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright, browser_page(playwright) as page:
        page.goto(f"{served_with_chat}/vns/inspector/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        expect(page.locator("#side-panel")).to_be_hidden()
        page.click("#chat-toggle")
        expect(page.locator("#side-panel")).to_be_visible()
        expect(page.locator("#chat-call")).to_be_enabled()
        expect(page.locator("#chat-notice")).to_be_hidden()

        page.fill("#chat-caller", "3035550142")
        page.click("#chat-call")
        expect(page.locator("#chat-say")).to_be_visible()
        expect(page.locator("#chat-call-info")).to_contain_text("gpt-realtime")
        session = page.locator("#chat-call-info").get_attribute("title")
        assert session
        # The timeline shows the chat's call: its CallStart, under its sessionGuid.
        expect(page.locator('.row[data-kind="call-start"]')).to_have_attribute("data-session", session)
        expect(page.locator("#call-filter")).to_have_value(session)

        page.fill("#chat-text", "Is Ron there?")
        page.press("#chat-text", "Enter")
        expect(page.locator(".bubble.caller")).to_have_text("Is Ron there?")
        expect(page.locator(".bubble.agent")).to_have_text("Ron Tanner is on +1 303 555 1212.")
        expect(page.locator(".tool-chip")).to_contain_text("lookup_name_or_phone HTTP 200")
        # Its tool call, in the same timeline as any call's, under the chat's call.
        tool_row = page.locator('.row[data-tool="lookup_name_or_phone"]')
        expect(tool_row).to_have_attribute("data-session", session)
        expect(tool_row.locator("> summary .badge")).to_have_text("ok")

        page.fill("#chat-text", "And my order?")
        page.click("#chat-send")
        expect(page.locator(".bubble.agent").nth(1)).to_have_text("Your order A100 has shipped.")
        expect(page.locator('.row[data-tool="check_order"]')).to_have_attribute("data-session", session)
        expect(page.locator(".row:not(.hidden)")).to_have_count(3)  # CallStart, two tool calls
        expect(page.locator("#chat-usage")).to_contain_text("tokens")
        page.locator('.row[data-tool="lookup_name_or_phone"] summary').click()
        screenshot(page, "inspector-chat.png", tmp_path)

        # A reload keeps the call: the panel shows it again, and the timeline is filtered to it.
        page.reload()
        expect(page.locator("#chat-say")).to_be_visible()
        expect(page.locator(".bubble.caller")).to_have_count(2)
        expect(page.locator(".tool-chip")).to_have_count(2)
        expect(page.locator("#call-filter")).to_have_value(session)

        page.click("#chat-hangup")
        expect(page.locator(".bubble.ended")).to_have_text("You hung up: CallEnd sent.")
        expect(page.locator("#chat-start")).to_be_visible()
        expect(page.locator('.row[data-kind="call-end"]')).to_have_attribute("data-session", session)
        expect(page.locator(".call .meta").first).to_contain_text("2 tool calls · ended")
        html = page.content()
        assert OPENAI_KEY not in html and WEBHOOK_TOKEN not in html
        assert model.last.caller_lines == ["Is Ron there?", "And my order?"]

        # The model failing: one clear line in the panel, and the call over.
        page.click("#chat-call")
        expect(page.locator("#chat-say")).to_be_visible()
        page.fill("#chat-text", "You hit the limit")
        page.press("#chat-text", "Enter")
        expect(page.locator(".bubble.problem")).to_contain_text("OpenAI rate limit reached")
        expect(page.locator(".bubble.ended")).to_have_text("The call has ended (CallEnd sent).")
        expect(page.locator("#chat-start")).to_be_visible()


def test_the_chat_says_plainly_when_there_is_no_key(
    observed_app: ObservedAppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with (
        serving(observed_app(inspector=True, public_url=None, openai_api_key=None)) as url,
        sync_playwright() as playwright,
        browser_page(playwright) as page,
    ):
        page.goto(f"{url}/vns/inspector/")
        page.click("#chat-toggle")
        expect(page.locator("#chat-notice")).to_contain_text("No OpenAI key")
        expect(page.locator("#chat-notice")).to_contain_text("OPENAI_API_KEY")
        expect(page.locator("#chat-call")).to_be_disabled()
