"""`import vns_sdk` stays cheap: serverless cold starts and test collection pay for every import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "typer",
    "rich",
    "uvicorn",
    "httptools",
    "uvloop",
    "redis",
    "pytest",
    "_pytest",
    "jsonschema",
    "yaml",
    "mcp",
    "httpx2",
    "opentelemetry",
)

ROOT = Path(__file__).resolve().parents[1]


def imported_after(code: str) -> set[str]:
    """The top-level packages in `sys.modules` after running `code` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


@pytest.mark.parametrize(
    "code",
    [
        "import vns_sdk",
        "import vns_sdk; vns_sdk.VNSApp",
        "from vns_sdk import VNSApp, ToolRouter, CallContext, ToolError, VNSClient, AsyncVNSClient",
        "import vns_sdk.models",
        "import vns_sdk.mcp",
        # An MCP server declared in the session needs no MCP SDK: OpenAI calls it. (An app that is built
        # reports to OpenTelemetry when it is installed, as the convention for libraries wants: off here.)
        "import os; os.environ['VNS_TELEMETRY'] = '0'\nfrom vns_sdk import VNSApp\n"
        "VNSApp(insecure_dev=True).mcp_server('c', server_url='https://c.example/mcp', allowed_tools=['a'])",
    ],
)
def test_import_does_not_load_heavy_packages(code: str) -> None:
    loaded = imported_after(code)
    assert "vns_sdk" in loaded
    assert not loaded & set(HEAVY), f"{code!r} imported {sorted(loaded & set(HEAVY))}"


def test_the_check_can_see_a_heavy_import() -> None:
    # Guards the guard: if the subprocess check were blind, the tests above would pass vacuously.
    assert "yaml" in imported_after("import vns_sdk, yaml")
