"""Names for leases, states and CallEnd claims: unique across processes and hosts, cheap, not secret.

A name is a random prefix drawn for the process and a counter. It does not use the `random` module, whose
state an app or a test framework may seed (two workers seeded alike would name their leases alike), nor a
system call per name. A forked worker draws a prefix of its own.
"""

from __future__ import annotations

import itertools
import os

__all__ = ["new_token"]

_prefix = os.urandom(6).hex()
_counter = itertools.count(1)


def _redraw() -> None:
    global _prefix, _counter
    _prefix = os.urandom(6).hex()
    _counter = itertools.count(1)


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_redraw)


def new_token() -> str:
    """A name no other lease, state version or claim of any worker has."""
    return f"{_prefix}{next(_counter):x}"
