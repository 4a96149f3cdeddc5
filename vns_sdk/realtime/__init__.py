"""Talk to your agent: a local VNS that bridges your app to the OpenAI Realtime model.

```python
from vns_sdk.realtime import RealtimeBridge

async with RealtimeBridge(app).call(caller_id="3035550123") as call:
    turn = await call.say("Can you look up Ron?")
    print(turn.text)                                   # what the agent said
    print(turn.tool_calls[0].name, turn.tool_calls[0].arguments, turn.tool_calls[0].output)
```

The bridge sends the CallStart a call gets, connects where the answer's ``aiUrl`` says with the answer's
headers (the key), sends the answer's ``session.update`` (text replies by default), and plays VNS for
every function the model calls: the tool request goes to the app exactly as VNS sends it, and the reply
back to the model. ``vns-sdk chat`` is this bridge in the terminal. It needs the ``realtime`` extra
(``pip install 'vns-sdk[realtime]'``); `vns_sdk.testing.realtime` has a scripted model to test it offline.
"""

from __future__ import annotations

from vns_sdk.realtime._bridge import RealtimeBridge
from vns_sdk.realtime._call import BridgedCall
from vns_sdk.realtime._errors import BridgeError, FaultReason
from vns_sdk.realtime._events import (
    AgentResponse,
    AgentSpeech,
    BridgeEvent,
    CallEnded,
    EndReason,
    ToolCall,
    ToolCallFinished,
    ToolCallStarted,
    Turn,
    Usage,
)
from vns_sdk.realtime._recording import CONVERSATION_KIND
from vns_sdk.realtime._target import RealtimeTarget, resolve_target

__all__ = [
    "CONVERSATION_KIND",
    "AgentResponse",
    "AgentSpeech",
    "BridgeError",
    "BridgeEvent",
    "BridgedCall",
    "CallEnded",
    "EndReason",
    "FaultReason",
    "RealtimeBridge",
    "RealtimeTarget",
    "ToolCall",
    "ToolCallFinished",
    "ToolCallStarted",
    "Turn",
    "Usage",
    "resolve_target",
]
