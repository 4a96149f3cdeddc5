"""JUnit XML for persona scenario runs: one test suite per scenario, one test case per run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from vns_sdk.testing.behaviour._runs import ScenarioRuns

__all__ = ["junit_xml", "write_junit"]


def junit_xml(all_runs: Sequence[ScenarioRuns]) -> str:
    """The JUnit XML document: a run that failed has a ``<failure>`` with its reasons; a stopped one is skipped."""
    root = ET.Element("testsuites", name="vns-sdk behaviour")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    seconds = 0.0
    for runs in all_runs:
        scenario = runs.scenario
        failures = sum(1 for result in runs.results if result.stopped is None and not result.passed)
        skipped = sum(1 for result in runs.results if result.stopped is not None)
        duration = sum(result.seconds for result in runs.results)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=scenario.name,
            tests=str(len(runs.results)),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
            time=f"{duration:.3f}",
        )
        if scenario.path is not None:
            suite.set("file", str(scenario.path))
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="pass_rate", value=f"{runs.rate:.3f}")
        ET.SubElement(properties, "property", name="estimated_cost_usd", value=f"{runs.dollars:.6f}")
        for result in runs.results:
            case = ET.SubElement(
                suite, "testcase", classname=scenario.name, name=f"run {result.number}", time=f"{result.seconds:.3f}"
            )
            if result.stopped is not None:
                ET.SubElement(case, "skipped", message=result.stopped)
            elif result.problems:
                failure = ET.SubElement(case, "failure", message=result.problems[0])
                failure.text = "\n".join(result.problems)
            details = [result.spend.summary()]
            if result.transcript is not None:
                details.append(f"transcript: {result.transcript}")
            details.extend(f"{speaker}: {text}" for speaker, text in result.conversation)
            ET.SubElement(case, "system-out").text = "\n".join(details)
        totals["tests"] += len(runs.results)
        totals["failures"] += failures
        totals["skipped"] += skipped
        seconds += duration
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(all_runs: Sequence[ScenarioRuns], path: str | Path) -> Path:
    """Write `junit_xml` to `path` (its folder is made if needed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(junit_xml(all_runs), encoding="utf-8")
    return target
