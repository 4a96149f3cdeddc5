"""The `vns-sdk` command line (``vns-sdk --help``).

Importing this package imports nothing heavy: `main` builds the Typer app on call.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Run the `vns-sdk` command (the console script)."""
    from vns_sdk.cli.main import app

    app(prog_name="vns-sdk")
