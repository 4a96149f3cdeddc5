"""Scenarios run against an app: each scenario's call placed by a simulator of its own (or the one given)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk.exceptions import ConfigurationError, SimulationError
from vns_sdk.testing._scenario_file import Scenario, find_scenarios, load_scenario
from vns_sdk.testing._scenario_play import ScenarioReport, ScenarioResult, play
from vns_sdk.testing._simulator import VNSSimulator

__all__ = ["iter_scenario_results", "run_scenario", "run_scenarios"]


def run_scenario(
    scenario: Scenario | str | PathLike[str],
    *,
    app: Any = None,
    url: str | None = None,
    simulator: VNSSimulator | None = None,
    webhook_token: str | None = None,
    prefix: str | None = None,
) -> ScenarioResult:
    """Place the scenario's call and check every reply; failures are collected, not raised.

    Args:
        scenario: A `Scenario`, or the path of a scenario file.
        app: The ASGI app to run against (default: the app the scenario names).
        url: Instead, the base URL of a running app.
        simulator: Instead, the simulator to place the call with (for example pytest's ``vns`` fixture).
        webhook_token: The token to present (default: as `VNSSimulator` finds it).
        prefix: The app's route prefix (default: as `VNSSimulator` finds it).

    Returns:
        The result: ``result.ok``, ``result.render()``, ``result.raise_for_failure()``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if simulator is not None:
        return play(scenario, simulator.call)
    if app is None and url is None:
        app = scenario.load_app()
    with VNSSimulator(app, url=url, webhook_token=webhook_token, prefix=prefix) as owned:
        return play(scenario, owned.call)


def run_scenarios(
    paths: str | PathLike[str] | Iterable[str | PathLike[str]],
    *,
    app: Any = None,
    url: str | None = None,
    webhook_token: str | None = None,
    prefix: str | None = None,
) -> ScenarioReport:
    """Run every scenario file found in `paths` (files, or directories searched recursively).

    A scenario that cannot be loaded or started counts as failed, with the reason.
    """
    results = iter_scenario_results(find_scenarios(paths), app=app, url=url, webhook_token=webhook_token, prefix=prefix)
    return ScenarioReport(results=list(results))


def iter_scenario_results(
    files: Iterable[Path],
    *,
    app: Any = None,
    url: str | None = None,
    fallback_app: Callable[[], Any] | None = None,
    webhook_token: str | None = None,
    prefix: str | None = None,
) -> Iterator[ScenarioResult]:
    """Run scenario files one by one, yielding each result as soon as it is known.

    A scenario that cannot be loaded or started is a failed result, with the reason.

    Args:
        files: The scenario files.
        app: The app every scenario runs against.
        url: Instead, the base URL of a running app.
        fallback_app: Without `app` and `url`, called (each time it is needed) for the app of a scenario
            that names none; a scenario's own ``app:`` wins over it.
        webhook_token: The token to present (default: as `VNSSimulator` finds it).
        prefix: The app's route prefix (default: as `VNSSimulator` finds it).

    Yields:
        Each file's result, in the order of `files`.
    """
    for path in files:
        try:
            scenario = load_scenario(path)
            target = app
            if target is None and url is None and not scenario.app and fallback_app is not None:
                target = fallback_app()
            result = run_scenario(scenario, app=target, url=url, webhook_token=webhook_token, prefix=prefix)
        except (ConfigurationError, SimulationError, OSError) as exc:
            result = ScenarioResult(Scenario(name=path.name.split(".vns.")[0], path=path), problems=[str(exc)])
        yield result
