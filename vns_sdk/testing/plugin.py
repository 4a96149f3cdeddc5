"""The vns-sdk pytest plugin (registered through the ``pytest11`` entry point; nothing to configure).

Fixtures:

* ``vns``: a `VNSSimulator` bound to your app. Name the app with a ``vns_app`` fixture of your own
  (returning the app, or the base URL of a running one), or with the ini option
  ``vns_app = module:attribute`` (or ``path/to/app.py:attribute``, relative to the rootdir); without
  either, the app of ``[tool.vns-sdk] app`` in pyproject.toml (the one the ``vns-sdk`` commands use).
* ``vns_call``: a call already placed (CallStart answered), ended after the test. Set its caller with
  ``@pytest.mark.vns_call(caller_id="3032639999", outbound=True, ...)``.

Scenario files (``*.vns.yaml``, ``*.vns.yml``, ``*.vns.json``) are collected as tests; each runs against
the app it names, else the ``vns_app`` ini option, else ``[tool.vns-sdk] app``.

``pytest --vns-record DIR`` writes a transcript of each test's simulated calls to ``DIR``.

```python
import pytest

@pytest.fixture
def vns_app():
    from myagent.app import app
    return app

def test_lookup(vns_call):
    vns_call.assert_reply("lookup_name_or_phone", name="Ron", expect={"contactFound": True}, partial=True)
```

Importing this module costs nothing beyond pytest itself: the simulator, the app and the scenario
parser load when a fixture or a scenario file needs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from vns_sdk.testing._scenario_file import Scenario, is_scenario_file, load_scenario

if TYPE_CHECKING:
    from vns_sdk.testing._simulator import VNSSimulator
    from vns_sdk.testing._sync_call import SimulatedCall

__all__ = [
    "ScenarioFile",
    "ScenarioItem",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "vns",
    "vns_app",
    "vns_call",
]

_NO_APP = (
    "The vns fixtures need your app. Define a fixture returning it:\n\n"
    "    @pytest.fixture\n"
    "    def vns_app():\n"
    "        from myagent.app import app\n"
    "        return app\n\n"
    "or name it in your pytest configuration:  vns_app = myagent.app:app\n"
    'or in pyproject.toml:  [tool.vns-sdk] app = "myagent.app:app"'
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``vns_app`` ini option and ``--vns-record``."""
    parser.addini(
        "vns_app",
        "The app the vns fixtures and scenario files drive: module:attribute or path/to/app.py:attribute.",
        default="",
    )
    group = parser.getgroup("vns-sdk")
    group.addoption(
        "--vns-record",
        dest="vns_record",
        metavar="DIR",
        default=None,
        help="Write a JSON Lines transcript of each test's simulated VNS calls to DIR (secrets redacted).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``vns_call`` marker."""
    config.addinivalue_line(
        "markers",
        "vns_call(**options): how the vns_call fixture places its call (caller_id=, outbound=, customer_call_id=, ...)",
    )


def _ini_app(config: pytest.Config) -> Any:
    """The app of the ``vns_app`` ini option, else of ``[tool.vns-sdk] app`` in pyproject.toml, else None."""
    from vns_sdk._loading import load_app, project_app_reference

    reference = str(config.getini("vns_app") or "").strip()
    if reference:
        return load_app(reference, base_dir=config.rootpath, isolate=True)
    if project_app_reference(config.rootpath) is None:
        return None
    return load_app(None, base_dir=config.rootpath, isolate=True)


@pytest.fixture
def vns_app(request: pytest.FixtureRequest) -> Any:
    """The app the ``vns`` fixture drives: override this fixture, or set the ``vns_app`` ini option.

    Without either, the app named by ``[tool.vns-sdk] app`` in the project's pyproject.toml.
    """
    from vns_sdk._loading import AppLoadError

    try:
        app = _ini_app(request.config)
    except AppLoadError as exc:
        if exc.__cause__ is not None and not isinstance(exc.__cause__, ModuleNotFoundError):
            raise  # the app's own code failed while importing: its traceback shows where
        # A wrong reference (no such module, file or attribute): one line, as a scenario file reports it.
        pytest.fail(f"AppLoadError: {exc}", pytrace=False)
    if app is None:
        pytest.fail(_NO_APP, pytrace=False)
    return app


@pytest.fixture
def vns(vns_app: Any, request: pytest.FixtureRequest) -> Iterator[VNSSimulator]:
    """A `VNSSimulator` bound to your app (``vns_app``); its calls are recorded with ``--vns-record DIR``."""
    from vns_sdk.testing._simulator import VNSSimulator

    record = None
    directory = request.config.getoption("vns_record", default=None)
    if directory:
        record = Path(directory) / (re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_") + ".jsonl")
    if isinstance(vns_app, str) and vns_app.startswith(("http://", "https://")):
        simulator = VNSSimulator(url=vns_app, record=record)
    else:
        simulator = VNSSimulator(vns_app, record=record)
    with simulator:
        yield simulator


@pytest.fixture
def vns_call(vns: VNSSimulator, request: pytest.FixtureRequest) -> Iterator[SimulatedCall]:
    """A call placed through ``vns`` (CallStart answered and checked), ended with CallEnd after the test."""
    marker = request.node.get_closest_marker("vns_call")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    with vns.call(**options) as call:
        yield call


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect scenario files as tests."""
    if is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """A scenario file: one test."""

    def collect(self) -> Iterator[pytest.Item]:
        """Read the scenario (a file that does not parse fails at collection, naming the problem)."""
        scenario = load_scenario(self.path)
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    """A scenario run as a test: the call is placed, and every reply compared with the expected one."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        """Place the scenario's call; fail with the report if a reply differs."""
        from vns_sdk.testing._scenario_run import run_scenario

        app = self.scenario.load_app() if self.scenario.app else _ini_app(self.config)
        if app is None:
            raise _ScenarioFailed(
                f"{self.path}: the scenario names no app. Add `app: module:attr` (or `app: ../app.py:app`) to the "
                "file, or set `vns_app = module:attr` in your pytest configuration (or `[tool.vns-sdk] app` in "
                "pyproject.toml)."
            )
        result = run_scenario(self.scenario, app=app)
        if not result.ok:
            raise _ScenarioFailed(result.render(exchanges=True))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """Show the scenario's report, not a traceback into the harness."""
        if isinstance(excinfo.value, _ScenarioFailed):
            return str(excinfo.value)
        from vns_sdk.exceptions import VNSError

        if isinstance(excinfo.value, VNSError):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the test comes from, for pytest's report."""
        return self.path, None, f"scenario: {self.name}"


class _ScenarioFailed(AssertionError):
    """A scenario did not go as expected (the message is the report)."""
