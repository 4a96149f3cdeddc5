"""An AWS Lambda handler through the Mangum ASGI adapter (pip install mangum)."""

from __future__ import annotations

# --8<-- [start:handler]
from mangum import Mangum

from vns_sdk import VNSApp

app = VNSApp(instructions="You are a friendly agent.")  # with VNS_REDIS_URL set: state outlives an instance
handler = Mangum(app, lifespan="auto")
# --8<-- [end:handler]

__all__ = ["app", "handler"]
