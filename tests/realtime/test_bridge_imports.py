"""The bridge is an extra: `import vns_sdk` never loads it, and importing it loads openai only when used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        ("import vns_sdk; vns_sdk.VNSApp", {"vns_sdk.realtime", "vns_sdk.testing.realtime", "openai", "websockets"}),
        ("import vns_sdk.realtime, vns_sdk.testing.realtime", {"openai", "websockets"}),
        ("import vns_sdk.testing.plugin", {"vns_sdk.testing.realtime", "openai", "websockets"}),
    ],
)
def test_the_realtime_packages_load_only_when_used(code: str, absent: set[str]) -> None:
    loaded = loaded_after(code)
    assert not loaded & absent, f"{code!r} imported {sorted(loaded & absent)}"


def test_the_check_sees_openai_when_it_is_used() -> None:
    assert "openai" in loaded_after("import vns_sdk.realtime._target as e, openai")
