"""Sharing call state between workers and hosts through Redis."""

from __future__ import annotations

import os

from vns_sdk import VNSApp
from vns_sdk.state import RedisCallStateStore

__all__ = ["app", "explicit"]

# --8<-- [start:redis]
# With VNS_REDIS_URL=redis://redis.internal:6379/0 in the environment, nothing else is needed:
app = VNSApp(instructions="You are a friendly agent.")

# Or pass a store, for a key prefix of your own (several apps sharing one Redis):
explicit = VNSApp(
    instructions="You are a friendly agent.",
    state_store=RedisCallStateStore(os.environ.get("VNS_REDIS_URL", "redis://localhost:6379/0"), key_prefix="dental:"),
)
# --8<-- [end:redis]
