"""vns-sdk: put an OpenAI Realtime voice agent on a phone number through Voice Nexus Service.

```python
from vns_sdk import VNSApp, CallContext

app = VNSApp(instructions="You are a friendly agent.")

@app.tool
async def lookup(call: CallContext, name: str) -> dict:
    \"\"\"Looks up a person by name.\"\"\"
    ...
```

The public names below load on first use, so `import vns_sdk` stays cheap (serverless cold starts and
test collection pay for every import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vns_sdk import _moved
from vns_sdk._version import __version__

_moved.install()  # module paths that moved in 0.2 still import, with a DeprecationWarning

if TYPE_CHECKING:
    from vns_sdk.app import VNSApp
    from vns_sdk.client import AsyncVNSClient, VNSClient
    from vns_sdk.context import CallContext
    from vns_sdk.endpoint import RealtimeEndpoint
    from vns_sdk.exceptions import (
        CallRefused,
        CallStateBusy,
        ConfigurationError,
        InvalidToolSignature,
        StateStoreError,
        ToolError,
        VNSAPIError,
        VNSConnectionError,
        VNSError,
        VNSStatusError,
        VNSTimeoutError,
    )
    from vns_sdk.models import CallEndRequest, CallStartRequest, RealtimeSession
    from vns_sdk.settings import VNSSettings
    from vns_sdk.state import CallState, CallStateStore, MemoryCallStateStore, RedisCallStateStore
    from vns_sdk.tools import Tool, ToolRouter

__all__ = [
    "AsyncVNSClient",
    "CallContext",
    "CallEndRequest",
    "CallRefused",
    "CallStartRequest",
    "CallState",
    "CallStateBusy",
    "CallStateStore",
    "ConfigurationError",
    "InvalidToolSignature",
    "MemoryCallStateStore",
    "RealtimeEndpoint",
    "RealtimeSession",
    "RedisCallStateStore",
    "StateStoreError",
    "Tool",
    "ToolError",
    "ToolRouter",
    "VNSAPIError",
    "VNSApp",
    "VNSClient",
    "VNSConnectionError",
    "VNSError",
    "VNSSettings",
    "VNSStatusError",
    "VNSTimeoutError",
    "__version__",
]

_LOCATIONS = {
    "VNSApp": "vns_sdk.app",
    "VNSSettings": "vns_sdk.settings",
    "AsyncVNSClient": "vns_sdk.client",
    "VNSClient": "vns_sdk.client",
    "CallContext": "vns_sdk.context",
    "CallEndRequest": "vns_sdk.models",
    "CallStartRequest": "vns_sdk.models",
    "RealtimeEndpoint": "vns_sdk.endpoint",
    "RealtimeSession": "vns_sdk.models",
    "CallState": "vns_sdk.state",
    "CallStateStore": "vns_sdk.state",
    "MemoryCallStateStore": "vns_sdk.state",
    "RedisCallStateStore": "vns_sdk.state",
    "Tool": "vns_sdk.tools",
    "ToolRouter": "vns_sdk.tools",
    **{
        name: "vns_sdk.exceptions"
        for name in (
            "CallRefused",
            "CallStateBusy",
            "ConfigurationError",
            "InvalidToolSignature",
            "StateStoreError",
            "ToolError",
            "VNSAPIError",
            "VNSConnectionError",
            "VNSError",
            "VNSStatusError",
            "VNSTimeoutError",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'vns_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next lookup is a plain attribute read
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
