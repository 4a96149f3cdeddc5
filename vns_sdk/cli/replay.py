"""`vns-sdk replay` and `vns-sdk test`: run recorded transcripts and scenario files against an app."""

from __future__ import annotations

from vns_sdk.cli._command import Command

__all__ = ["COMMANDS"]

COMMANDS: tuple[Command, ...] = ()
