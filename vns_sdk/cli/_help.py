"""Help that shows a flag as a flag: ``--json``, not ``--json <bool>`` (which reads as if it took a value)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

__all__ = ["FlagCommand", "quiet_flags"]


def quiet_flags(params: list[Any]) -> list[Any]:
    """Give every boolean flag an empty metavar, so the help shows no type after it."""
    for param in params:
        if getattr(param, "is_flag", False) and getattr(param, "metavar", "") is None:
            param.metavar = ""
    return params


class FlagCommand(TyperCommand):
    """A command whose help shows its flags (and ``--help``) without a ``<bool>``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return quiet_flags(super().get_params(ctx))
