"""A VNSApp mounted inside a FastAPI application."""

from __future__ import annotations

# --8<-- [start:mount]
from fastapi import FastAPI

from vns_sdk import VNSApp

voice = VNSApp(instructions="You are a friendly agent.")
api = FastAPI()
api.mount("/voice", voice)  # VNS calls /voice/vns/call-start, /voice/vns/tools, /voice/vns/call-end
# --8<-- [end:mount]

__all__ = ["api", "voice"]
