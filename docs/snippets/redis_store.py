"""Sharing call state between workers and hosts through Redis."""

from __future__ import annotations

import os

from vns_sdk import VNSApp
from vns_sdk.state import RedisCallStateStore

__all__ = ["app", "cluster", "explicit", "sentinel"]

# --8<-- [start:redis]
# With VNS_REDIS_URL=redis://redis.internal:6379/0 in the environment, nothing else is needed:
app = VNSApp(instructions="You are a friendly agent.")

# Or pass a store, for a key prefix of your own (several apps sharing one Redis):
explicit = VNSApp(
    instructions="You are a friendly agent.",
    state_store=RedisCallStateStore(os.environ.get("VNS_REDIS_URL", "redis://localhost:6379/0"), key_prefix="dental:"),
)
# --8<-- [end:redis]

# --8<-- [start:deployments]
# A Redis Cluster: the URL of any node (the client finds the others). TLS: rediss://, with redis-py's options.
cluster = RedisCallStateStore(
    "rediss://:cluster-password@redis-cluster.internal:6380/0?ssl_ca_certs=/etc/ssl/certs/ca.pem", mode="cluster"
)

# A master watched by Sentinel: the URL's host names the master, the sentinels find where it is.
sentinel = RedisCallStateStore(
    "redis://:master-password@mymaster/0",
    mode="sentinel",
    sentinels="sentinel-1.internal:26379,sentinel-2.internal:26379,sentinel-3.internal:26379",
)
# --8<-- [end:deployments]
