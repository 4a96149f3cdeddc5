"""A scripted OpenAI Realtime model: deterministic conversation tests that need no key and cost nothing.

```python
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

script = RealtimeScript()
script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
script.when("bye").end_call("bye", goodbye="Goodbye!")

with ScriptedRealtimeServer(script, api_key="sk-test") as server:
    ...  # point the bridge (vns_sdk.realtime) or `vns-sdk chat --realtime-url` at server.url()
```

`ScriptedRealtimeServer` is a WebSocket server on loopback speaking the part of the GA Realtime event
protocol a VNS call uses; `RealtimeScript` says what its model answers. It needs the ``realtime``
extra (``pip install 'vns-sdk[realtime]'``), which brings ``openai`` and ``websockets``.
"""

from __future__ import annotations

from vns_sdk.testing.realtime._script import (
    FunctionCall,
    RealtimeScript,
    RuleBuilder,
    Say,
    ScriptedResponse,
    ScriptRule,
)
from vns_sdk.testing.realtime._server import ScriptedConnection, ScriptedRealtimeServer

__all__ = [
    "FunctionCall",
    "RealtimeScript",
    "RuleBuilder",
    "Say",
    "ScriptRule",
    "ScriptedConnection",
    "ScriptedRealtimeServer",
    "ScriptedResponse",
]
