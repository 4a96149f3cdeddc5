"""The Observability page's code runs, and the page says what the code does.

Each Python block runs in a fresh interpreter: one sets OpenTelemetry's global providers, which a process
can set only once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vns_sdk._observe._otel import SCHEMA_URL, SEMCONV_VERSION

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "observability.md"
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```$", re.M | re.S)


def blocks(lang: str) -> list[str]:
    return [fence["body"] for fence in FENCE.finditer(PAGE.read_text(encoding="utf-8")) if fence["lang"] == lang]


@pytest.mark.parametrize("block", blocks("python"), ids=lambda block: block.splitlines()[-1][:40])
def test_each_python_block_runs(block: str, tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VNS_", "OTEL_")) and key != "OPENAI_API_KEY"
    }
    env["VNS_WEBHOOK_TOKEN"] = "docs-test-token-0123"
    done = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_page_names_the_conventions_followed() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert f"Semantic Conventions {SEMCONV_VERSION}" in text
    assert SCHEMA_URL in text


@pytest.mark.parametrize("image", ["inspector.png", "inspector-chat.png"])
def test_the_page_shows_the_screenshots_taken_by_the_browser_tests(image: str) -> None:
    assert f"](images/{image})" in PAGE.read_text(encoding="utf-8")
    assert (ROOT / "docs" / "images" / image).read_bytes()[:4] == b"\x89PNG"
