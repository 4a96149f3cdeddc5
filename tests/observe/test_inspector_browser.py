"""The inspector in a real browser: Chromium, driven by Playwright, watching a call placed against a served app.

Debian's Chromium is used (``apt-get install chromium``; ``.ci/run`` installs it), launched by its path:
Playwright's own browser downloads are never needed. Without Chromium the test is skipped, unless the
``CI`` environment variable is set, where it fails.

The test saves its screenshot of the page into ``docs/images/inspector.png`` (the Observability page shows
it) when ``VNS_UPDATE_SCREENSHOTS=1``; otherwise into a temporary folder, so a test run leaves the tree clean.
"""

from __future__ import annotations

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
from observe_support import OPENAI_KEY, WEBHOOK_TOKEN, ObservedAppFactory

from vns_sdk.testing import VNSSimulator, run_scenario

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "inspector.png"
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


@pytest.fixture
def served(observed_app: ObservedAppFactory) -> Iterator[str]:
    """The app with its inspector, served by uvicorn on a loopback port; yields its base URL."""
    import uvicorn

    app = observed_app(inspector=True, public_url=None)
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


def test_the_inspector_in_a_browser(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            context = browser.new_context(
                http_credentials={"username": "developer", "password": WEBHOOK_TOKEN},
                viewport={"width": 1440, "height": 900},
                color_scheme="light",
            )
            page = context.new_page()
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
            expect(page.locator('.row[data-tool="lookup_name_or_phone"] .details')).to_contain_text(
                "What the model hears"
            )
            shot = SCREENSHOT if os.environ.get("VNS_UPDATE_SCREENSHOTS") == "1" else tmp_path / "inspector.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

            # The call, copied as a scenario file, passes against the app.
            page.locator(".call .copy-scenario").click()
            expect(page.locator("#copy-dialog")).to_be_visible()
            expect(page.locator("#copy-text")).to_have_value(_containing("steps:"))
            scenario = page.input_value("#copy-text")
            assert WEBHOOK_TOKEN not in scenario and OPENAI_KEY not in scenario
        finally:
            browser.close()

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
