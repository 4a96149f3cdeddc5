"""`vns-sdk chat [APP]`: talk to your agent through the Realtime model, with VNS's part played here.

You type as the caller; the agent's words stream as they come; each function the model calls is sent to
the app as VNS would send it, and shown with its arguments, the reply, what the model heard and the
latency. ``/end`` hangs up; ``end_conversation`` hangs up by itself; so does ``maxSeconds``.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vns_sdk.cli._command import (
    AppArgument,
    CalledNumberOption,
    CallerIdOption,
    CallerNameOption,
    Command,
    CustomerCallIdOption,
    EnvFileOption,
    OutboundOption,
)
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.realtime import BridgedCall, BridgeEvent, RealtimeBridge, ToolCall

__all__ = ["COMMAND", "chat"]

_HANG_UP = ("/end", "/hangup", "/quit", "/exit")
_ENDINGS = {
    "caller": "Call ended: you hung up.",
    "agent": "Call ended: the agent hung up (end_conversation).",
    "max_seconds": "Call ended: maxSeconds reached.",
    "error": "Call ended after an error.",
}


class _Lines:
    """The caller's lines, read from stdin on a thread of their own so the call goes on while you type."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.echo = not _is_tty(sys.stdin)
        # A daemon: a read blocked on the terminal must not keep the process alive after the call.
        threading.Thread(target=self._read, name="vns-chat-stdin", daemon=True).start()

    def _read(self) -> None:
        for line in _stdin_lines():
            if not self._post(line):
                return
        self._post(None)

    def _post(self, line: str | None) -> bool:
        # The call may be over (a refused key, the agent hanging up) and its loop closed while this thread
        # still reads: what comes after is nobody's.
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except RuntimeError:  # the loop is closed
            return False
        return True

    async def next(self, timeout: float) -> str | None:
        """The next line, or None at the end of input.

        Raises:
            asyncio.TimeoutError: `timeout` passed first.
        """
        return await asyncio.wait_for(self._queue.get(), timeout)


class _Screen:
    """Prints what happens in the call, as it happens."""

    def __init__(self) -> None:
        self.speaking = False  # the line is open: the agent's words, or the caller's prompt

    def __call__(self, event: BridgeEvent) -> None:
        from vns_sdk.realtime import AgentResponse, AgentSpeech, CallEnded, ToolCallFinished, ToolCallStarted

        if isinstance(event, AgentSpeech):
            if not self.speaking:
                typer.secho("agent> ", fg="green", bold=True, nl=False)
                self.speaking = True
            typer.echo(event.delta, nl=False)
            sys.stdout.flush()
        elif isinstance(event, AgentResponse):
            self._break_line()
            if event.status != "completed":
                why = f": {event.reason}" if event.reason else ""
                typer.secho(f"  (the response was {event.status}{why})", dim=True)
        elif isinstance(event, ToolCallStarted):
            self._break_line()
            typer.secho(f"  ⚙ {event.call.name} {_json(event.call.arguments)}", fg="cyan")
        elif isinstance(event, ToolCallFinished):
            self._tool_call(event.call)
        elif isinstance(event, CallEnded):
            self._break_line()
            typer.secho(_ENDINGS[event.reason], bold=True)
            typer.echo(f"CallEnd sent (status {event.status}) ← {_json(event.acknowledgement)}")

    def _tool_call(self, call: ToolCall) -> None:
        from vns_sdk.realtime._recording import redact

        if call.skipped and not call.ran and call.output is None:
            typer.secho(f"  ⚙ {call.name} {_json(call.arguments)} — not run: {call.skipped}", fg="yellow")
            return
        if call.status is not None:
            typer.echo(f"    ← HTTP {call.status} in {call.tool_ms:.1f} ms: {_short(_json(call.reply), 400)}")
        error = call.reply.get("error") if isinstance(call.reply, dict) else None
        if isinstance(error, str):
            typer.secho(f"    (the model hears an error: {error})", fg="yellow")
        if call.problem:
            typer.secho(f"    ✗ {call.problem}", fg="red")
        heard = _short(str(redact(call.output or "")), 400)
        typer.secho(f"    model heard: {heard}  (bridge {call.bridge_ms:.2f} ms)", dim=True)

    def prompt(self) -> None:
        """Ask the caller for a line."""
        typer.secho("you> ", fg="blue", bold=True, nl=False)
        sys.stdout.flush()
        self.speaking = True

    def caller_said(self, line: str, *, echo: bool) -> None:
        """The caller typed a line: a terminal shows it; piped input is echoed."""
        if echo:
            typer.echo(line)
        self.speaking = False

    def _break_line(self) -> None:
        if self.speaking:
            typer.echo("")
            self.speaking = False


def _stdin_lines() -> Iterator[str]:
    """The lines of stdin, as they are typed."""
    # A real stream is read from its file descriptor: a thread blocked in the buffered reader would hold
    # its lock, and the interpreter could not shut down past that.
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # a stand-in stream (tests): no descriptor
        yield from (line.rstrip("\r\n") for line in iter(sys.stdin.readline, ""))
        return
    decoder = codecs.getincrementaldecoder(sys.stdin.encoding or "utf-8")("replace")
    pending = ""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        pending += decoder.decode(chunk, final=not chunk)
        *lines, pending = pending.split("\n")
        yield from (line.rstrip("\r") for line in lines)
        if not chunk:
            if pending:
                yield pending.rstrip("\r")
            return


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _connected(call: BridgedCall, caller_id: str, called_number: str, *, audio: bool) -> None:
    target = call.target
    assert target is not None
    key = "OPENAI_API_KEY" if target.key_from_environment else "the CallStart answer's aiUrl headers"
    modalities = (call.response.session.output_modalities or ["audio"]) if audio else ["text"]
    typer.secho(f"Call connected: {caller_id} → {called_number}  (session {call.session_guid})", bold=True, fg="green")
    typer.echo(
        f"model {target.model or call.response.session.model} at {target.where} (key from {key}); "
        f"{'/'.join(modalities)} replies; at most {call.max_seconds} s"
    )
    tools = ", ".join(call.tools) or "none"
    typer.echo(f"tools: {tools}")
    typer.secho("Type as the caller; /end hangs up.", dim=True)


async def _talk(bridge: RealtimeBridge, caller: dict[str, Any], *, audio: bool) -> None:
    screen = _Screen()
    async with bridge.call(**caller, on_event=screen) as call:
        _connected(call, str(caller["caller_id"]), str(caller["called_number"]), audio=audio)
        lines = _Lines()
        while not call.ended:
            screen.prompt()
            try:
                line = await lines.next(call.time_left)
            except asyncio.TimeoutError:  # the caller said nothing until maxSeconds
                await call.hang_up(reason="max_seconds")
                break
            if line is not None:
                screen.caller_said(line, echo=lines.echo)
            if line is None or line.strip().lower() in _HANG_UP:
                await call.hang_up()
                break
            if line.strip():
                await call.say(line.strip())


def chat(
    app: AppArgument = None,
    caller_id: CallerIdOption = "3035550123",
    caller_name: CallerNameOption = "Jane Doe",
    called_number: CalledNumberOption = "7205550100",
    customer_call_id: CustomerCallIdOption = None,
    outbound: OutboundOption = False,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Save the call (webhook exchanges and conversation) as a transcript."),
    ] = None,
    audio: Annotated[
        bool, typer.Option("--audio", help="Keep the app's output modalities (audio): its transcript is shown.")
    ] = False,
    realtime_url: Annotated[
        str | None,
        typer.Option(
            "--realtime-url",
            envvar="VNS_REALTIME_URL",
            help="Connect here instead of the CallStart answer's aiUrl (a scripted server); its headers still go.",
            metavar="URL",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="Instead of APP, the base URL of a running app (presents VNS_WEBHOOK_TOKEN).", metavar="URL"
        ),
    ] = None,
    env_file: EnvFileOption = None,
) -> None:
    """Talk to your agent through the OpenAI Realtime model: you type as the caller, the app's tools run.

    The call is placed as VNS places it (CallStart, the Realtime session of the answer, every tool request,
    CallEnd). The agent answers in text unless --audio. /end hangs up, and so does Ctrl-C.
    """
    from vns_sdk.cli._loading import open_app, prepare_environment
    from vns_sdk.realtime import RealtimeBridge

    if app is not None and url is not None:
        raise CLIError("pass APP or --url, not both", exit_code=2)
    if url is not None and not url.startswith(("http://", "https://")):
        raise CLIError(f"--url must be an http(s) URL like http://127.0.0.1:8000, got {url!r}", exit_code=2)
    target: Any = None
    if url is None:
        _, target = open_app(app, env_file=env_file, simulated=True)
    else:
        prepare_environment(env_file)
    bridge = RealtimeBridge(
        target, url=url, realtime_url=realtime_url, output_modalities=None if audio else ("text",), record=record
    )
    caller = {
        "caller_id": caller_id,
        "caller_id_name": caller_name,
        "called_number": called_number,
        "customer_call_id": customer_call_id,
        "outbound": outbound,
    }
    try:
        asyncio.run(_talk(bridge, caller, audio=audio))
    except KeyboardInterrupt:
        raise CLIError("interrupted (Ctrl-C): the call was hung up and CallEnd sent", exit_code=130) from None
    if record is not None:
        typer.echo(f"Transcript: {record}  (vns-sdk replay {record} replays its webhook exchanges)")


COMMAND = Command(
    name="chat",
    function=chat,
    panel="Simulate",
    epilog=(
        "Examples:\n\n"
        "  export OPENAI_API_KEY=sk-...\n"
        "  vns-sdk chat examples/lookup/app.py\n"
        "  vns-sdk chat app.py --record calls/ron.jsonl\n"
        "  vns-sdk chat app.py --realtime-url ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime"
    ),
)
