"""The behaviour fixtures for pytest (registered through the ``pytest11`` entry point; nothing to configure).

* ``vns_agent``: a `BehaviourAgent` on your app (the ``vns_app`` fixture): ``async with vns_agent.call()
  as call:`` places a live call through the bridge, and ``await call.say(...)`` returns the turn's
  expectations.
* ``vns_script``: the scripted model it talks to. Define it, returning a
  `vns_sdk.testing.realtime.RealtimeScript`; return None to talk to the real model instead (mark such
  tests ``openai``: they need ``OPENAI_API_KEY`` and cost money).
* ``vns_judge``: who judges ``expect.reply().judge(...)``: an `OpenAIJudge` unless you define it (a
  `StubJudge` in tests that must not call a model).

```python
@pytest.fixture
def vns_script():
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
    return script

async def test_ron(vns_agent):
    async with vns_agent.call() as call:
        expect = await call.say("What's Ron's number?")
        expect.tool("lookup_name_or_phone", {"name": "Ron"})
        expect.reply().contains("555 1212")
```

Importing this module costs nothing beyond pytest: the bridge and the judge load when a fixture runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from vns_sdk.testing.behaviour._judge import Judge
    from vns_sdk.testing.behaviour._live import BehaviourAgent
    from vns_sdk.testing.realtime import RealtimeScript

__all__ = ["pytest_configure", "pytest_runtest_setup", "vns_agent", "vns_judge", "vns_script"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``openai`` marker, so a project's tests can use it without declaring it."""
    config.addinivalue_line(
        "markers", "openai: talks to the real OpenAI models (needs OPENAI_API_KEY, costs money); skipped without it"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``openai`` when no ``OPENAI_API_KEY`` is set, saying so."""
    if item.get_closest_marker("openai") is not None and not os.environ.get("OPENAI_API_KEY"):
        pytest.skip("talks to OpenAI: set OPENAI_API_KEY to run it")


_NO_SCRIPT = (
    "The vns_agent fixture needs the model it talks to. Define a fixture returning a scripted one:\n\n"
    "    @pytest.fixture\n"
    "    def vns_script():\n"
    "        script = RealtimeScript()   # from vns_sdk.testing.realtime\n"
    '        script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron is on 555 1212.")\n'
    "        return script\n\n"
    "or returning None to talk to the real model (it needs OPENAI_API_KEY and costs money)."
)


@pytest.fixture
def vns_script() -> RealtimeScript | None:
    """The scripted model ``vns_agent`` talks to: define this fixture (None: the real model)."""
    pytest.fail(_NO_SCRIPT, pytrace=False)


@pytest.fixture
def vns_judge() -> Judge:
    """Who judges criteria: an `OpenAIJudge` (override it with a `StubJudge` or your own `Judge`)."""
    from vns_sdk.testing.behaviour._judge import OpenAIJudge

    return OpenAIJudge()


@pytest.fixture
def vns_agent(vns_app: Any, vns_script: RealtimeScript | None, vns_judge: Judge) -> BehaviourAgent:
    """A `BehaviourAgent` on your app (``vns_app``), against ``vns_script``, judged by ``vns_judge``."""
    from vns_sdk.testing.behaviour._live import BehaviourAgent

    if isinstance(vns_app, str) and vns_app.startswith(("http://", "https://")):
        return BehaviourAgent(None, url=vns_app, script=vns_script, judge=vns_judge)
    return BehaviourAgent(vns_app, script=vns_script, judge=vns_judge)
