"""`vns-sdk chat`: a conversation in the terminal, with the scripted Realtime model standing in for OpenAI.

The scripted server runs in a background thread (``with ScriptedRealtimeServer(...)``); the command
connects to it through ``--realtime-url``, with the key the app's CallStart answer carries.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

APP_KEY = "sk-test-openai-key-0123456789"  # the key of the app the `lookup_app` fixture writes


def script() -> RealtimeScript:
    script = RealtimeScript()
    script.when("Ron").say("Let me check.").call("lookup_name_or_phone", name="Ron").say("Ron Tanner: +1 303 555 1212.")
    script.when("lunch").call("book", day="monday", hour=13).say("Not at lunch time; another hour?")
    script.when("hold on").call("book", day="monday", hour=9).cancel()
    script.when("bye").end_call("bye", goodbye="Goodbye!")
    script.when("slow").wait(30).say("Sorry for the wait.")
    script.when("drop").drop()
    return script


@pytest.fixture
def server() -> Iterator[ScriptedRealtimeServer]:
    with ScriptedRealtimeServer(script(), api_key=APP_KEY) as running:
        yield running


def chat(run: Callable[..., Result], server: ScriptedRealtimeServer, *args: str, input: str) -> Result:
    return run("chat", *args, "--realtime-url", server.url(), input=input)


def test_a_conversation_with_a_tool_call(
    run: Callable[..., Result], lookup_app: Path, server: ScriptedRealtimeServer
) -> None:
    result = chat(run, server, "agent/app.py", input="Can you look up Ron?\n\nlunch on monday?\n/end\nnot read\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Call connected: 3035550123 → 7205550100" in out
    assert f"model gpt-realtime at {server.base_url}/v1/realtime (key from the CallStart answer's aiUrl headers)" in out
    assert "text replies; at most 300 s" in out
    assert "tools: end_conversation, lookup_name_or_phone, book" in out
    assert "you> Can you look up Ron?\nagent> Let me check.\n" in out
    assert '  ⚙ lookup_name_or_phone {"name": "Ron"}\n    ← HTTP 200 in ' in out
    assert '"contactName": "Ron Tanner"' in out
    assert 'model heard: {"matchType":"name","contactFound":true,"contactName":"Ron Tanner"' in out
    assert "agent> Ron Tanner: +1 303 555 1212.\n" in out
    # A tool error is a 200 the model hears and speaks from.
    assert "(the model hears an error: tool_error)" in out and "Lunch time. Offer another hour." in out
    assert "Call ended: you hung up.\nCallEnd sent (status 0) ← " in out
    assert "not read" not in out
    assert server.last.caller_lines == ["Can you look up Ron?", "lunch on monday?"]


def test_end_conversation_hangs_up_by_itself_and_a_cancelled_response_runs_nothing(
    run: Callable[..., Result], lookup_app: Path, server: ScriptedRealtimeServer
) -> None:
    result = chat(run, server, "agent/app.py", input="hold on\nbye\nstill there?\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert '⚙ book {"day": "monday", "hour": 9} — not run: the response was cancelled' in out
    assert "(the response was cancelled: turn_detected)" in out
    assert "agent> Goodbye!\nCall ended: the agent hung up (end_conversation).\n" in out
    assert "still there?" not in out


def test_the_end_of_input_hangs_up(
    run: Callable[..., Result], lookup_app: Path, server: ScriptedRealtimeServer
) -> None:
    result = chat(run, server, "agent/app.py", input="")
    assert result.exit_code == 0, result.output
    assert "Call ended: you hung up." in result.stdout


def test_a_recorded_chat_replays_its_webhook_exchanges(
    run: Callable[..., Result], lookup_app: Path, server: ScriptedRealtimeServer, tmp_path: Path
) -> None:
    result = chat(run, server, "agent/app.py", "--record", "calls/ron.jsonl", input="Is Ron there?\nbye\n")
    assert result.exit_code == 0, result.output
    assert (
        "Transcript: calls/ron.jsonl  (vns-sdk replay calls/ron.jsonl replays its webhook exchanges)" in result.stdout
    )
    lines = [json.loads(line) for line in (tmp_path / "calls/ron.jsonl").read_text().splitlines()]
    roles = [line.get("role") for line in lines if line["kind"] == "conversation"]
    assert roles == ["caller", "agent", "function_call", "agent", "caller", "agent", "function_call", "agent", "end"]
    assert APP_KEY not in (tmp_path / "calls/ron.jsonl").read_text()
    replayed = run("replay", "calls/ron.jsonl", "--app", "agent/app.py")
    assert replayed.exit_code == 0, replayed.output
    assert "All 4 exchanges answered as recorded." in replayed.stdout


def test_max_seconds_hangs_up(
    run: Callable[..., Result], write: Callable[[str, str], Path], lookup_source: str, server: ScriptedRealtimeServer
) -> None:
    write("agent/app.py", lookup_source.replace("end_conversation=True,", "end_conversation=True, max_seconds=1,"))
    result = chat(run, server, "agent/app.py", input="slow please\nhello?\n")
    assert result.exit_code == 0, result.output
    assert "at most 1 s" in result.stdout
    assert "Call ended: maxSeconds reached.\nCallEnd sent (status 0)" in result.stdout


def test_no_key_is_one_line_and_the_call_is_ended(
    run: Callable[..., Result], write: Callable[[str, str], Path], lookup_source: str, server: ScriptedRealtimeServer
) -> None:
    write("agent/app.py", lookup_source.replace(f'    openai_api_key="{APP_KEY}",\n', ""))
    result = chat(run, server, "agent/app.py", input="hello\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No OpenAI key: the CallStart answer's aiUrl has no Authorization")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Call ended after an error.\nCallEnd sent (status 1)" in result.stdout
    assert server.connections == []


def test_a_refused_key_and_a_dropped_connection_are_one_line_each(
    run: Callable[..., Result], lookup_app: Path, server: ScriptedRealtimeServer
) -> None:
    result = chat(run, server, "agent/app.py", input="drop it\n")
    assert result.exit_code == 1
    assert result.stderr == "error: The Realtime connection dropped mid-call (no close frame)\n"
    assert "CallEnd sent (status 1)" in result.stdout
    with ScriptedRealtimeServer(api_key="sk-another-key-0123456789") as other:
        result = run("chat", "agent/app.py", "--realtime-url", other.url(), input="hello\n")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: The Realtime endpoint refused the key (HTTP 401 from {other.base_url}/v1/realtime): "
        "Incorrect API key provided.\n"
    )


def test_without_the_realtime_extra_it_says_what_to_install(
    run: Callable[..., Result], lookup_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openai" else find_spec(name, *a))
    result = run("chat", "agent/app.py", input="hello\n")
    assert result.exit_code == 1
    assert result.stderr == "error: Talking to the Realtime model needs openai: pip install 'vns-sdk[realtime]'\n"


def test_app_and_url_together_are_a_usage_error(run: Callable[..., Result]) -> None:
    result = run("chat", "app.py", "--url", "http://127.0.0.1:8000")
    assert result.exit_code == 2
    assert "pass APP or --url, not both" in result.stderr
    result = run("chat", "--url", "127.0.0.1:8000")
    assert result.exit_code == 2 and "--url must be an http(s) URL" in result.stderr


# -- a running app whose tool endpoint fails -------------------------------------------------------------


class _BrokenLookup:
    """The app, except that the lookup tool's endpoint answers as a crashed server does."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/vns/tools/lookup_name_or_phone":
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        await self.app(scope, receive, send)


@pytest.fixture
def running_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A VNSApp with the ``/<<toolname>>`` adapter served by uvicorn on loopback; its base URL."""
    import uvicorn

    from vns_sdk import VNSApp

    token = "whk-served-token-0123456789"
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", token)
    app = VNSApp(instructions="You look up people.", openai_api_key=APP_KEY, tools_url_adapter="/<<toolname>>")

    @app.tool
    async def lookup_name_or_phone(name: str) -> dict[str, Any]:
        """Looks up a person.

        Args:
            name: The name.
        """
        return {"contactFound": False}

    server = uvicorn.Server(uvicorn.Config(_BrokenLookup(app), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_running_app_whose_tool_endpoint_fails(
    run: Callable[..., Result], running_app: str, server: ScriptedRealtimeServer
) -> None:
    result = chat(run, server, "--url", running_app, input="Can you look up Ron?\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "    ← HTTP 500 in " in out and ': "Internal Server Error"' in out
    assert "✗ the tool endpoint answered HTTP 500; what VNS passes on for an HTTP error is not documented" in out
    assert "model heard: Internal Server Error" in out
    assert "agent> Ron Tanner: +1 303 555 1212." in out  # the call goes on
    assert server.last.function_outputs == {next(iter(server.last.function_calls)): "Internal Server Error"}


# -- Ctrl-C, in a real process ---------------------------------------------------------------------------


def start_chat(server: ScriptedRealtimeServer) -> tuple[subprocess.Popen[bytes], bytes]:
    """`vns-sdk chat agent/app.py` in a process of its own, its stdin left open; the output up to the prompt."""
    code = "import sys; from vns_sdk.cli import main; sys.argv[0] = 'vns-sdk'; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "chat", "agent/app.py", "--realtime-url", server.url()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"you> " not in seen and time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            seen += os.read(process.stdout.fileno(), 4096)
    assert b"you> " in seen, seen.decode()
    return process, seen


def finish(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Its output until it exits, with its stdin left open, as a terminal's is (closing it would hang up)."""
    assert process.stdout is not None and process.stderr is not None
    out = err = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout, process.stderr], [], [], 0.5)
        chunks = {stream: os.read(stream.fileno(), 4096) for stream in ready}
        out += chunks.get(process.stdout, b"")
        err += chunks.get(process.stderr, b"")
        if process.poll() is not None and not any(chunks.values()):
            break
    process.kill()
    process.wait(10)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return out, err


@pytest.mark.slow
def test_a_silent_caller_is_hung_up_on_at_max_seconds(
    write: Callable[[str, str], Path], lookup_source: str, server: ScriptedRealtimeServer
) -> None:
    write("agent/app.py", lookup_source.replace("end_conversation=True,", "end_conversation=True, max_seconds=1,"))
    process, seen = start_chat(server)
    out, err = finish(process)  # nobody types, and time runs out
    assert process.returncode == 0, (seen + out, err)
    assert "you> \nCall ended: maxSeconds reached.\nCallEnd sent (status 0)" in (seen + out).decode()


@pytest.mark.slow
def test_ctrl_c_hangs_up_and_says_so_in_one_line(lookup_app: Path, server: ScriptedRealtimeServer) -> None:
    process, seen = start_chat(server)
    process.send_signal(signal.SIGINT)
    out, err = finish(process)
    output = (seen + out).decode()
    assert process.returncode == 130, (output, err)
    assert err.decode() == "error: interrupted (Ctrl-C): the call was hung up and CallEnd sent\n"
    assert "you> \nCall ended: you hung up.\nCallEnd sent (status 0)" in output


def test_lines_typed_after_the_call_ended_go_nowhere_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    # The call can end (a refused key, the agent hanging up) while stdin is still being read on its thread:
    # the lines that come after must not raise in that thread once the call's loop is closed.
    import asyncio
    import io

    from vns_sdk.cli import chat as chat_module

    typed = threading.Event()
    released = threading.Event()

    def lines() -> Iterator[str]:
        yield "hello"
        typed.set()
        released.wait(5)
        yield "anyone there?"

    monkeypatch.setattr(chat_module, "_stdin_lines", lines)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))

    async def the_call() -> str | None:
        reader = chat_module._Lines()
        return await reader.next(timeout=5)

    before = set(threading.enumerate())
    assert asyncio.run(the_call()) == "hello"  # the call ends, its loop is closed...
    assert typed.wait(5)
    [reader_thread] = [t for t in set(threading.enumerate()) - before if t.name == "vns-chat-stdin"]
    released.set()  # ...and the caller types on
    reader_thread.join(5)
    assert not reader_thread.is_alive()
    assert failures == []
