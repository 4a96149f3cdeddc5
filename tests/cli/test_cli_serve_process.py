"""`vns-sdk serve` as a real process: kept-alive tool calls without Nagle's delay, and a graceful shutdown.

Nagle's algorithm is checked where it lives, on the server's accepted sockets, not by timing: the app's
``probe`` tool reads ``TCP_NODELAY`` off every connection its worker holds on the server's port (through
``/proc/self/fd``, so it works under any server). The same check under servers that leave the option off
(uvicorn given a socket by file descriptor; uvicorn's workers before 0.55) reads 0, which shows it can fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the probe reads /proc/self/fd"),
]

TOKEN = "whk-serve-test-token-0123456789"
BIN = Path(sys.executable).parent
SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"

PROBE_APP = '''
"""A VNSApp whose tools report on the server they run in."""

import asyncio
import os
import socket
from pathlib import Path

from vns_sdk import CallContext, VNSApp

app = VNSApp(webhook_token=os.environ["PROBE_TOKEN"], openai_api_key="sk-test-openai-key-0123456789")
PORT = int(os.environ["PROBE_PORT"])


def _accepted_nodelay() -> list[int]:
    flags = []
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = os.dup(int(name))
        except OSError:
            continue  # closed since the listing
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            continue  # not a socket
        with sock:
            if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
                continue
            try:
                sock.getpeername()
            except OSError:
                continue  # the listening socket
            if sock.getsockname()[1] == PORT:
                flags.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    return flags


@app.tool
async def probe(call: CallContext) -> dict[str, object]:
    """Reports this worker, its event loop, and TCP_NODELAY on each connection it accepted."""
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    return {"pid": os.getpid(), "loop": loop, "nodelay": _accepted_nodelay()}


@app.tool
async def wait_for_release(call: CallContext) -> dict[str, bool]:
    """Says it started, then waits until the test releases it."""
    Path(os.environ["PROBE_DIR"], "started").touch()
    while not Path(os.environ["PROBE_DIR"], "release").exists():
        await asyncio.sleep(0.02)
    return {"finished": True}
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """A server process and where to reach it."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def probe_dir(tmp_path: Path) -> Path:
    (tmp_path / "probe_app.py").write_text(PROBE_APP, encoding="utf-8")
    return tmp_path


@pytest.fixture
def start(probe_dir: Path) -> Iterator[Callable[..., Served]]:
    """Start a server command (``{port}`` and ``{fd}`` in its arguments filled in) and wait until it answers."""
    processes: list[subprocess.Popen[bytes]] = []

    def start_server(
        args: list[str], *, redis_url: str | None = None, fd: bool = False, env_extra: dict[str, str] | None = None
    ) -> Served:
        port = _free_port()
        env = {name: value for name, value in os.environ.items() if not name.startswith("VNS_")}
        env.update(PROBE_TOKEN=TOKEN, PROBE_PORT=str(port), PROBE_DIR=str(probe_dir), VNS_TOOL_TIMEOUT="120")
        env.update(env_extra or {})
        env.pop("WEB_CONCURRENCY", None)
        if redis_url:
            env["VNS_REDIS_URL"] = redis_url
        listener = None
        pass_fds: tuple[int, ...] = ()
        if fd:
            # A listening socket handed over by file descriptor, as systemd socket activation does.
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", port))
            listener.listen()
            pass_fds = (listener.fileno(),)
        filled = [arg.format(port=port, fd=pass_fds[0] if pass_fds else "") for arg in args]
        log = probe_dir / f"server-{port}.log"
        with log.open("wb") as out:
            # A session of its own, so that teardown can stop the server's workers too, whatever happened.
            process = subprocess.Popen(
                filled,
                cwd=probe_dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        processes.append(process)
        if listener is not None:
            listener.close()
        served = Served(process, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{served.base_url}/vns/health", timeout=30).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{filled} did not start:\n{served.output()}")
            time.sleep(0.1)

    yield start_server
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything of it still running (a worker left behind)
        process.wait()


def _start_call(client: httpx.Client) -> tuple[str, str, dict[str, str]]:
    guid = str(uuid.uuid4())
    request = json.loads((SPEC / "call_start_request.json").read_text(encoding="utf-8")) | {"sessionGuid": guid}
    answer = client.post("/vns/call-start", json=request, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    base = answer.json()["VoiceElements_Instructions"]["defaultToolsUrlBase"]
    return guid, base["url"], base["headers"]


def _probe_kept_alive(served: Served, calls: int = 5) -> list[dict[str, Any]]:
    """A CallStart and `calls` probe tool calls on one kept-alive connection; the tool's answers."""
    answers = []
    with httpx.Client(base_url=served.base_url, timeout=60) as client:
        guid, url, headers = _start_call(client)
        body = {"VoiceElements_InvokeTool": {"toolName": "probe", "sessionGuid": guid, "customerCallId": None}}
        for _ in range(calls):
            response = client.post(url, json=body, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.json())
    assert len({answer["pid"] for answer in answers}) == 1  # one connection, kept alive: one worker
    return answers


def _serve(*args: str) -> list[str]:
    return [str(BIN / "vns-sdk"), "serve", "probe_app.py", "--log-level", "warning", *args]


def _uvicorn(*args: str) -> list[str]:
    return [str(BIN / "uvicorn"), "probe_app:app", "--log-level", "warning", "--loop", "asyncio", *args]


# asyncio leaves Nagle's algorithm on for these listeners; uvloop turns it off itself, so the checks that
# must show the difference run on asyncio.
@pytest.mark.redis
@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "2", "--port", "{port}", "--loop", "asyncio", "--http", "h11"],
        ["--workers", "2", "--port", "{port}", "--loop", "asyncio", "--http", "httptools"],
        ["--workers", "2", "--port", "{port}"],
    ],
    ids=["asyncio-h11", "asyncio-httptools", "auto"],
)
def test_two_workers_answer_kept_alive_tool_calls_without_nagle(
    start: Callable[..., Served], redis_url: str, args: list[str]
) -> None:
    served = start(_serve(*args), redis_url=redis_url)
    answers = _probe_kept_alive(served)
    assert [answer["nodelay"] for answer in answers] == [[1]] * 5
    assert {answer["loop"] for answer in answers} == ({"asyncio"} if "asyncio" in args else {"uvloop"})


def test_an_inherited_socket_gets_nodelay_with_one_worker(start: Callable[..., Served]) -> None:
    served = start(_serve("--fd", "{fd}", "--loop", "asyncio"), fd=True)
    assert [answer["nodelay"] for answer in _probe_kept_alive(served)] == [[1]] * 5


def test_the_check_fails_where_nagle_is_left_on(start: Callable[..., Served]) -> None:
    # The guard of the tests above: plain uvicorn given the same inherited socket leaves the option off.
    served = start(_uvicorn("--fd", "{fd}"), fd=True)
    assert [answer["nodelay"] for answer in _probe_kept_alive(served)] == [[0]] * 5


def test_plain_uvicorn_workers(start: Callable[..., Served]) -> None:
    # The deployment the docs used to recommend: before uvicorn 0.55 its workers' connections kept Nagle on.
    served = start(_uvicorn("--workers", "2", "--port", "{port}"))
    fixed = tuple(int(part) for part in uvicorn.__version__.split(".")[:2]) >= (0, 55)
    assert [answer["nodelay"] for answer in _probe_kept_alive(served)] == [[int(fixed)]] * 5


@pytest.mark.skipif(shutil.which("gunicorn", path=str(BIN)) is None, reason="gunicorn is not installed")
def test_gunicorn_with_the_uvicorn_worker(start: Callable[..., Served]) -> None:
    # The deployment page's gunicorn command: gunicorn sets TCP_NODELAY on its listening sockets, and the
    # accepted connections inherit it.
    command = [str(BIN / "gunicorn"), "probe_app:app", "--workers", "2", "--bind", "127.0.0.1:{port}"]
    served = start([*command, "--worker-class", "uvicorn_worker.UvicornH11Worker", "--log-level", "warning"])
    assert [answer["nodelay"] for answer in _probe_kept_alive(served)] == [[1]] * 5


@pytest.mark.parametrize(
    "workers", [pytest.param(1, id="one-process"), pytest.param(2, id="two-workers", marks=pytest.mark.redis)]
)
def test_sigterm_lets_a_tool_call_in_progress_finish(
    start: Callable[..., Served], request: pytest.FixtureRequest, probe_dir: Path, workers: int
) -> None:
    redis_url = request.getfixturevalue("redis_url") if workers > 1 else None
    served = start(_serve("--port", "{port}", "--workers", str(workers), "--log-level", "info"), redis_url=redis_url)
    answer: list[httpx.Response] = []
    with httpx.Client(base_url=served.base_url, timeout=120) as client:
        guid, url, headers = _start_call(client)
        body = {"VoiceElements_InvokeTool": {"toolName": "wait_for_release", "sessionGuid": guid}}
        calling = threading.Thread(target=lambda: answer.append(client.post(url, json=body, headers=headers)))
        calling.start()
        _wait_for(lambda: (probe_dir / "started").exists(), "the tool to start", served)
        served.process.send_signal(signal.SIGTERM)
        # Every worker is shutting down, with the tool call still running...
        _wait_for(lambda: served.output().count("Shutting down") == workers, "the workers to shut down", served)
        assert calling.is_alive()
        # A new connection is refused at once, not accepted into a queue no worker serves any more.
        _wait_for(lambda: _refused(served.base_url), "new connections to be refused", served, patience=10)
        # ...and it finishes, answered in full, before the server exits.
        (probe_dir / "release").touch()
        calling.join(120)
    assert answer and answer[0].status_code == 200 and answer[0].json() == {"finished": True}
    # One process ends as uvicorn does, by the SIGTERM it was sent (a clean stop to a service manager).
    assert served.process.wait(60) in (0, -signal.SIGTERM), served.output()
    assert "Traceback" not in served.output()


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_half_a_body_is_answered_408_and_the_connection_closed(start: Callable[..., Served], http: str) -> None:
    served = start(
        _serve("--port", "{port}", "--http", http, "--log-level", "info"), env_extra={"VNS_BODY_TIMEOUT": "0.5"}
    )
    with httpx.Client(base_url=served.base_url, timeout=60) as client:
        guid, url, headers = _start_call(client)
    port = int(served.base_url.rsplit(":", 1)[1])
    tool_body = json.dumps({"VoiceElements_InvokeTool": {"toolName": "probe", "sessionGuid": guid}}).encode()
    start_body = (SPEC / "call_start_request.json").read_bytes()
    for path, authorization, body in [
        (url.removeprefix(served.base_url), headers["Authorization"], tool_body),
        ("/vns/call-start", f"Bearer {TOKEN}", start_body),
    ]:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sock.sendall(head.encode() + body[: len(body) // 2])  # and then nothing more
            answer = b""
            while chunk := sock.recv(65536):  # until the server closes the connection
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 408 Request Timeout", answer
        assert b"connection: close" in rest.lower()
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"] == "request_timeout"
    output = served.output()
    assert output.count("outcome=body_timeout status=408") == 2, output
    assert "Traceback" not in output and "ERROR" not in output


def _refused(base_url: str) -> bool:
    """Whether a connection to the server is refused (an accepted one is closed again at once)."""
    host, port = httpx.URL(base_url).host, httpx.URL(base_url).port
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def _wait_for(condition: Callable[[], bool], what: str, served: Served, patience: float = 60) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{served.output()}")
        time.sleep(0.05)
