"""Test your VNS app offline: a VNS simulator, pytest fixtures, record and replay, and call scenarios.

```python
from vns_sdk.testing import VNSSimulator

def test_lookup():
    with VNSSimulator(app) as vns, vns.call(caller_id="3032639999") as call:
        assert call.invoke("lookup_name_or_phone", name="Ron")["contactFound"]
```

With vns-sdk installed, pytest gets the ``vns`` and ``vns_call`` fixtures (see `vns_sdk.testing.plugin`)
and collects ``*.vns.yaml`` / ``*.vns.json`` scenario files as tests.

The names below load on first use, so the pytest plugin costs nothing until a fixture is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vns_sdk._exchange import Exchange, format_exchanges
    from vns_sdk._transcript import read_transcript
    from vns_sdk.app.recording import RecordingMiddleware
    from vns_sdk.exceptions import SimulationError
    from vns_sdk.testing._assertions import assert_matches
    from vns_sdk.testing._call import AsyncSimulatedCall
    from vns_sdk.testing._loader import load_app
    from vns_sdk.testing._replay import ReplayReport, replay
    from vns_sdk.testing._scenario_file import Scenario, load_scenario
    from vns_sdk.testing._scenario_play import ScenarioReport, ScenarioResult
    from vns_sdk.testing._scenario_run import run_scenario, run_scenarios
    from vns_sdk.testing._simulator import VNSSimulator
    from vns_sdk.testing._sync_call import SimulatedCall, assert_tool_reply
    from vns_sdk.testing._tool_checks import check_tools

__all__ = [
    "AsyncSimulatedCall",
    "Exchange",
    "RecordingMiddleware",
    "ReplayReport",
    "Scenario",
    "ScenarioReport",
    "ScenarioResult",
    "SimulatedCall",
    "SimulationError",
    "VNSSimulator",
    "assert_matches",
    "assert_tool_reply",
    "check_tools",
    "format_exchanges",
    "load_app",
    "load_scenario",
    "read_transcript",
    "replay",
    "run_scenario",
    "run_scenarios",
]

# The modules in layers, bottom to top; none imports from a line above its own:
#   _fakes, _checks, _assertions, _runtime, _loader, _scenario_file   wire fakes, checks, formats, the app target
#   _credential, _tool_checks                                         the stand-in token; tools read by the model
#   _answers, _call, _sync_call                                      a call, async and sync
#   _scenario_play                                                   a scenario played on a call placer
#   _simulator                                                       VNSSimulator
#   _scenario_run, _replay                                           scenarios and transcripts against an app
#   plugin                                                           the pytest plugin
# The transcript format (vns_sdk._transcript, _exchange, _redaction) sits below both app/ and testing/.
_LOCATIONS = {
    "AsyncSimulatedCall": "vns_sdk.testing._call",
    "Exchange": "vns_sdk._exchange",
    "RecordingMiddleware": "vns_sdk.app.recording",
    "ReplayReport": "vns_sdk.testing._replay",
    "Scenario": "vns_sdk.testing._scenario_file",
    "ScenarioReport": "vns_sdk.testing._scenario_play",
    "ScenarioResult": "vns_sdk.testing._scenario_play",
    "SimulatedCall": "vns_sdk.testing._sync_call",
    "SimulationError": "vns_sdk.exceptions",
    "VNSSimulator": "vns_sdk.testing._simulator",
    "assert_matches": "vns_sdk.testing._assertions",
    "assert_tool_reply": "vns_sdk.testing._sync_call",
    "check_tools": "vns_sdk.testing._tool_checks",
    "format_exchanges": "vns_sdk._exchange",
    "load_app": "vns_sdk.testing._loader",
    "load_scenario": "vns_sdk.testing._scenario_file",
    "read_transcript": "vns_sdk._transcript",
    "replay": "vns_sdk.testing._replay",
    "run_scenario": "vns_sdk.testing._scenario_run",
    "run_scenarios": "vns_sdk.testing._scenario_run",
}


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'vns_sdk.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
