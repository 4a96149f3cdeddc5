"""The vns-sdk pytest plugin (registered through the ``pytest11`` entry point; nothing to configure).

Fixtures:

* ``vns``: a `VNSSimulator` bound to your app. Name the app with a ``vns_app`` fixture of your own
  (returning the app, or the base URL of a running one), or with the ini option
  ``vns_app = module:attribute`` (or ``path/to/app.py:attribute``, relative to the rootdir); without
  either, the app of ``[tool.vns-sdk] app`` in pyproject.toml (the one the ``vns-sdk`` commands use).
* ``vns_call``: a call already placed (CallStart answered), ended after the test. Set its caller with
  ``@pytest.mark.vns_call(caller_id="3032639999", outbound=True, ...)``.

Scenario files (``*.vns.yaml``, ``*.vns.yml``, ``*.vns.json``) are collected as tests; each runs against
the app it names (``app:``), else the ``vns_app`` fixture's: yours, else the ``vns_app`` ini option, else
``[tool.vns-sdk] app``; ``vns-sdk test`` finds it the same way (``--app`` standing for the fixture).

An app with no webhook credential gets a throwaway token for the run (``VNS_WEBHOOK_TOKEN``, set before
any conftest.py is imported and removed at the end), as under the ``vns-sdk`` commands that simulate calls.

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

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from vns_sdk.exceptions import VNSError
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
    "pytest_load_initial_conftests",
    "pytest_unconfigure",
    "vns",
    "vns_app",
    "vns_call",
]

_NO_APP = (
    "the vns fixtures need your app: define a `vns_app` fixture returning it, set `vns_app = module:attr` in "
    'your pytest configuration, or `[tool.vns-sdk] app = "module:attr"` in pyproject.toml '
    "(a scenario file may name its own: `app: app.py:app`)"
)
_STAND_IN = pytest.StashKey[str]()


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


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Give an app with no webhook credential a throwaway token, as the ``vns-sdk`` commands do.

    Before any conftest.py or test module is imported: one may build the app at import. The token is
    removed again when the run ends.
    """
    from vns_sdk.testing._credential import stand_in_webhook_token

    token = stand_in_webhook_token()
    if token is not None:
        early_config.stash[_STAND_IN] = token


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``vns_call`` marker."""
    config.addinivalue_line(
        "markers",
        "vns_call(**options): how the vns_call fixture places its call (caller_id=, outbound=, customer_call_id=, ...)",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Take back the throwaway token this run set."""
    import os

    token = config.stash.get(_STAND_IN, None)
    if token is not None and os.environ.get("VNS_WEBHOOK_TOKEN") == token:
        del os.environ["VNS_WEBHOOK_TOKEN"]


def _configured_app(config: pytest.Config) -> Any:
    """The app of the ``vns_app`` ini option, else of ``[tool.vns-sdk] app`` in pyproject.toml, else None.

    Raises:
        AppLoadError: The reference names nothing importable.
        VNSError: The app refused its settings while being built.
    """
    from vns_sdk._loading import load_app, project_app_reference

    reference = str(config.getini("vns_app") or "").strip()
    if reference:
        return load_app(reference, base_dir=config.rootpath, isolate=True)
    if project_app_reference(config.rootpath) is None:
        return None
    return load_app(None, base_dir=config.rootpath, isolate=True)


def _app_problem(exc: BaseException) -> str | None:
    """The one line telling a user's mistake in naming or configuring the app, or None for a bug of theirs."""
    from vns_sdk._loading import AppLoadError
    from vns_sdk.exceptions import VNSError

    cause = exc.__cause__
    if isinstance(exc, AppLoadError) and cause is not None and not isinstance(cause, ModuleNotFoundError):
        return None  # the app's own code failed while importing: its traceback shows where
    if isinstance(exc, VNSError):
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture
def vns_app(request: pytest.FixtureRequest) -> Any:
    """The app the ``vns`` fixture drives: override this fixture, or set the ``vns_app`` ini option.

    Without either, the app named by ``[tool.vns-sdk] app`` in the project's pyproject.toml.
    """
    __tracebackhide__ = True
    problem = None
    try:
        app = _configured_app(request.config)
    except Exception as exc:
        problem = _app_problem(exc)
        if problem is None:
            raise
    else:
        if app is None:
            problem = _NO_APP
    # Failed outside the `except`, so pytest shows the one line and not the error it was raised from.
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    return app


@pytest.fixture
def vns(vns_app: Any, request: pytest.FixtureRequest) -> Iterator[VNSSimulator]:
    """A `VNSSimulator` bound to your app (``vns_app``); its calls are recorded with ``--vns-record DIR``."""
    from vns_sdk.testing._simulator import VNSSimulator

    record = None
    directory = request.config.getoption("vns_record", default=None)
    if directory:
        record = Path(directory) / (re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_") + ".jsonl")
    __tracebackhide__ = True
    problem = None
    try:
        if isinstance(vns_app, str) and vns_app.startswith(("http://", "https://")):
            simulator = VNSSimulator(url=vns_app, record=record)
        else:
            simulator = VNSSimulator(vns_app, record=record)
    except VNSError as exc:  # a vns_app fixture that returns no app, an invalid VNS_ setting, ...
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    with simulator:
        yield simulator


@pytest.fixture
def vns_call(vns: VNSSimulator, request: pytest.FixtureRequest) -> Iterator[SimulatedCall]:
    """A call placed through ``vns`` (CallStart answered and checked), ended with CallEnd after the test."""
    __tracebackhide__ = True
    marker = request.node.get_closest_marker("vns_call")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    known = set(inspect.signature(vns.call).parameters)
    unknown = sorted(set(options) - known)
    if unknown or (marker is not None and marker.args):
        pytest.fail(
            f"@pytest.mark.vns_call takes keyword options only, among: {', '.join(sorted(known))}"
            + (f" (not {', '.join(unknown)})" if unknown else ""),
            pytrace=False,
        )
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
        try:
            scenario = load_scenario(self.path)
        except VNSError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            yield ScenarioItem.from_parent(self, name=scenario.name, callobj=_play, scenario=scenario)
            return
        raise self.CollectError(problem)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """A file that does not parse: the one line that says why."""
        if isinstance(excinfo.value, self.CollectError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _play(request: pytest.FixtureRequest) -> None:
    """The body of a scenario's test: play it on the scenario's own app, else on the ``vns`` fixture's."""
    from vns_sdk.testing._scenario_run import run_scenario

    item = request.node
    assert isinstance(item, ScenarioItem)
    scenario = item.scenario
    if scenario.app:
        result = run_scenario(scenario, app=scenario.load_app())
    else:
        # The app the rest of the tests use: a `vns_app` fixture, the ini option or [tool.vns-sdk] app.
        result = run_scenario(scenario, simulator=request.getfixturevalue("vns"))
    if not result.ok:
        raise _ScenarioFailed(result.render(exchanges=True))


class ScenarioItem(pytest.Function):
    """A scenario run as a test: the call is placed, and every reply compared with the expected one.

    A test function like any other, so it gets the fixtures a test of its folder gets (``vns_app``
    from a conftest.py included).
    """

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """Show the scenario's report, not a traceback into the harness."""
        if isinstance(excinfo.value, _ScenarioFailed):
            return str(excinfo.value)
        if isinstance(excinfo.value, VNSError):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the test comes from, for pytest's report."""
        return self.path, None, f"scenario: {self.name}"


class _ScenarioFailed(AssertionError):
    """A scenario did not go as expected (the message is the report)."""
