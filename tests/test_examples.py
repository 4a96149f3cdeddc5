"""Every example folder stands alone: copied out of the repository, with vns-sdk installed, its tests pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(path for path in (ROOT / "examples").iterdir() if path.is_dir() and not path.name.startswith("."))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_an_example_copied_alone_passes_its_own_tests(example: Path, tmp_path: Path) -> None:
    copy = tmp_path / example.name
    shutil.copytree(example, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    # The reader's environment: none of this run's settings or options.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VNS_", "PYTEST_", "OPENAI_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "-m", "not openai"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout


def test_the_lookup_example_carries_the_spec_examples_word_for_word() -> None:
    for copy in (ROOT / "examples" / "lookup" / "spec").glob("*.json"):
        original = ROOT / "tests" / "fixtures" / "spec" / copy.name
        assert json.loads(copy.read_text(encoding="utf-8")) == json.loads(original.read_text(encoding="utf-8"))
