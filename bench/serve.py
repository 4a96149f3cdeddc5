"""Behind the production server: the lookup agent under `vns-sdk serve`, next to the same agent written by hand.

Run from the repository root, with the development dependencies installed (``pip install -e '.[dev]'``):

    python bench/serve.py                   # the comparison table (a few minutes)
    python bench/serve.py --rounds 3        # the median of three rounds
    python bench/serve.py --baseline        # also plain `uvicorn --workers 2` on its default h11/asyncio
    python bench/serve.py --only vnsapp     # only the lookup example's variants
    python bench/serve.py --soak 20000      # RSS of `vns-sdk serve` before and after 20,000 whole calls

What runs, each as its own server process on a free loopback port:

* ``vnsapp``: ``examples/lookup/app.py`` under ``vns-sdk serve`` (1 worker keeping call state in memory; 2
  workers sharing it through a ``redis-server`` this script starts);
* ``starlette``: ``bench/handwritten_app.py``, the same three webhooks written carefully by hand in Starlette
  (static tokens, no call state), under the same server (`vns_sdk._server`, what ``vns-sdk serve`` runs);
* ``starlette-redis``: the same hand-written app with 2 workers keeping what the agent keeps across workers in
  the same ``redis-server`` (the call's record, its end, the end recorded by ``end_conversation``; one round
  trip per webhook, no lease): what sharing a call between workers costs without vns-sdk;
* with ``--baseline``: the lookup example under ``uvicorn --workers 2 --http h11 --loop asyncio``, the command
  the deployment page recommended before ``vns-sdk serve``.

A client in this process keeps ``C`` connections alive (C = 1, 20, 120) and makes whole calls on each, one
after the other: CallStart, three tool calls (a lookup by name, one by number, ``end_conversation``), CallEnd,
as VNS does. It reports whole calls per second, the tool calls' p50 and p99 latency, and the server's CPU
time per whole call, read from ``/proc`` for the server's processes (the supervisor and its workers) before
and after. Both apps run the same parser and event loop (httptools and uvloop when installed) and log only
warnings, so the comparison is of the apps. Linux only (``/proc``); loopback only; every phase is bounded by
a number of calls and a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TOKEN = "bench-webhook-token-0123456789"
CLK_TCK = os.sysconf("SC_CLK_TCK")
LEVELS = {1: 400, 20: 2000, 120: 3000}  # concurrent connections -> whole calls measured
CALL_START = json.loads((ROOT / "tests" / "fixtures" / "spec" / "call_start_request.json").read_text())
CALL_END = json.loads((ROOT / "tests" / "fixtures" / "spec" / "call_end_request.json").read_text())
TOOL_CALLS = (
    ("lookup_name_or_phone", {"name": "Ron"}),
    ("lookup_name_or_phone", {"phoneNumber": "+13035551212"}),
    ("end_conversation", {"user_input": "goodbye"}),
)


# -- the servers --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    app: str  # vnsapp | vnsapp-redis (a VNSApp on Redis with any number of workers) | starlette | starlette-redis
    server: str  # vns-sdk serve | uvicorn
    workers: int

    @property
    def label(self) -> str:
        return f"{self.app} / {self.server} / {self.workers}w"

    @property
    def uses_redis(self) -> bool:
        return self.app.endswith("-redis") or (self.app == "vnsapp" and self.workers > 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(variant: Variant, port: int) -> list[str]:
    if variant.server == "uvicorn":
        return [
            str(BIN / "uvicorn"), "--app-dir", str(ROOT / "examples" / "lookup"), "app:app", "--port", str(port),
            "--workers", str(variant.workers), "--http", "h11", "--loop", "asyncio", "--log-level", "warning",
            "--no-access-log",
        ]  # fmt: skip
    if variant.app.startswith("vnsapp"):
        return [
            str(BIN / "vns-sdk"), "serve", str(ROOT / "examples" / "lookup" / "app.py"), "--port", str(port),
            "--workers", str(variant.workers), "--log-level", "warning",
        ]  # fmt: skip
    # The hand-written app under the same server `vns-sdk serve` runs (it only serves a VNSApp itself).
    code = (
        "import sys; from pathlib import Path; from vns_sdk._server import ServerOptions, run; "
        f"sys.exit(run(ServerOptions(app='handwritten_app:app', app_dir=Path({str(BENCH)!r}), port={port}, "
        f"workers={variant.workers}, log_level='warning')))"
    )
    return [sys.executable, "-c", code]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """A server process for one variant, and its processes."""

    def __init__(self, variant: Variant, redis_url: str | None, log_dir: Path) -> None:
        self.variant = variant
        self.port = _free_port()
        env = {name: value for name, value in os.environ.items() if not name.startswith("VNS_")}
        env.pop("WEB_CONCURRENCY", None)
        env.update(VNS_WEBHOOK_TOKEN=TOKEN, OPENAI_API_KEY="sk-bench-0123456789", PYTHONDONTWRITEBYTECODE="1")
        if redis_url and variant.uses_redis:
            env["VNS_REDIS_URL" if variant.app.startswith("vnsapp") else "BENCH_REDIS_URL"] = redis_url
        self.log = log_dir / f"{variant.app}-{variant.server.replace(' ', '-')}-{variant.workers}-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                _command(variant, self.port),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so that stop() can end every process of it
            )
        self._wait_ready()
        self.pids = _tree(self.process.pid)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"GET /vns/health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        self._wait_idle()
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.variant.label} did not start:\n{self.log.read_text()}")

    def _wait_idle(self) -> None:
        # One worker answering is not all of them started: wait until the processes stop using CPU.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            before = cpu_seconds(_tree(self.process.pid))
            time.sleep(0.5)
            if cpu_seconds(_tree(self.process.pid)) - before < 0.03:
                return

    def workers(self) -> list[int]:
        """The processes that serve requests (not the supervisor, nor multiprocessing's resource tracker)."""
        if self.variant.workers == 1:
            return self.pids[:1]
        return [pid for pid in self.pids[1:] if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextmanager
def redis_server() -> Iterator[tuple[str | None, int | None]]:
    """A private redis-server on a free loopback port (URL and pid), or (None, None) without one installed."""
    executable = shutil.which("redis-server")
    if executable is None:
        yield None, None
        return
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as folder:
        process = subprocess.Popen(
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "", "--appendonly",
             "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0", process.pid
        finally:
            process.terminate()
            process.wait()


# -- the client ----------------------------------------------------------------------------------------------


class Connection:
    """One kept-alive HTTP/1.1 connection, with just enough HTTP for these JSON webhooks."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
        self.reader, self.writer = reader, writer
        self.host = f"Host: 127.0.0.1:{port}\r\n".encode()

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, port)

    async def post(self, path: bytes, headers: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            b"POST " + path + b" HTTP/1.1\r\n" + self.host + b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + headers + b"\r\n" + body
        )  # fmt: skip
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


WEBHOOK_AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()


async def whole_call(connection: Connection, tool_latencies: list[float]) -> None:
    """CallStart, the three tool calls, CallEnd, on one connection; the tool calls' latencies appended."""
    guid = str(uuid.uuid4())
    status, body = await connection.post(
        b"/vns/call-start", WEBHOOK_AUTH, json.dumps(CALL_START | {"sessionGuid": guid}).encode()
    )
    if status != 200:
        raise RuntimeError(f"CallStart answered {status}: {body[:200]!r}")
    base = json.loads(body)["VoiceElements_Instructions"]["defaultToolsUrlBase"]
    path = urlsplit(base["url"]).path.encode()
    headers = "".join(f"{name}: {value}\r\n" for name, value in base["headers"].items()).encode()
    for tool, arguments in TOOL_CALLS:
        wrapper = {"toolName": tool, "sessionGuid": guid, "customerCallId": None}
        payload = json.dumps({"VoiceElements_InvokeTool": wrapper, **arguments}).encode()
        started = time.perf_counter()
        status, body = await connection.post(path, headers, payload)
        tool_latencies.append(time.perf_counter() - started)
        if status != 200 or body.startswith(b'{"error"'):
            raise RuntimeError(f"{tool} answered {status}: {body[:200]!r}")
    status, body = await connection.post(
        b"/vns/call-end", WEBHOOK_AUTH, json.dumps(CALL_END | {"sessionGuid": guid}).encode()
    )
    if status != 200:
        raise RuntimeError(f"CallEnd answered {status}: {body[:200]!r}")


@dataclass
class Result:
    calls: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    redis_cpu: float = 0.0
    tool_latencies: list[float] = field(default_factory=list)

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds

    def tool_ms(self, quantile: float) -> float:
        ordered = sorted(self.tool_latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu / self.calls * 1000

    @property
    def redis_ms_per_call(self) -> float:
        return self.redis_cpu / self.calls * 1000


async def drive(server: Server, concurrency: int, calls: int, max_seconds: float, redis_pid: int | None) -> Result:
    """`calls` whole calls (or as many as `max_seconds` allow) on `concurrency` kept-alive connections."""
    connections = [await Connection.open(server.port) for _ in range(concurrency)]
    result = Result()
    remaining = [calls]
    deadline = time.monotonic() + max_seconds

    async def caller(connection: Connection) -> None:
        while remaining[0] > 0 and time.monotonic() < deadline:
            remaining[0] -= 1
            await whole_call(connection, result.tool_latencies)
            result.calls += 1

    cpu_before = cpu_seconds(server.pids)
    redis_before = cpu_seconds([redis_pid]) if redis_pid else 0.0
    started = time.perf_counter()
    await asyncio.gather(*(caller(connection) for connection in connections))
    result.seconds = time.perf_counter() - started
    result.cpu = cpu_seconds(server.pids) - cpu_before
    result.redis_cpu = (cpu_seconds([redis_pid]) - redis_before) if redis_pid else 0.0
    for connection in connections:
        connection.close()
    return result


def run_client(coroutine: Any) -> Any:
    """Run the client on uvloop when installed, so the client costs the machine as little as it can."""
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


# -- the runs ------------------------------------------------------------------------------------------------


def compare(args: argparse.Namespace) -> None:
    variants = [Variant("vnsapp", "vns-sdk serve", 1), Variant("starlette", "vns-sdk serve", 1),
                Variant("vnsapp-redis", "vns-sdk serve", 1),
                Variant("vnsapp", "vns-sdk serve", 2), Variant("starlette", "vns-sdk serve", 2),
                Variant("starlette-redis", "vns-sdk serve", 2)]  # fmt: skip
    if args.baseline:
        variants.append(Variant("vnsapp", "uvicorn", 2))
    if args.only:
        variants = [variant for variant in variants if variant.app.startswith(args.only)]
    levels = {concurrency: max(20, int(calls * args.scale)) for concurrency, calls in LEVELS.items()}
    results: dict[tuple[Variant, int], list[Result]] = {}
    with redis_server() as (redis_url, redis_pid), tempfile.TemporaryDirectory(prefix="bench-serve-") as logs:
        if redis_url is None:
            print("redis-server is not installed: the variants sharing calls through it are left out", file=sys.stderr)
            variants = [variant for variant in variants if not variant.uses_redis]
        for round_number in range(args.rounds):
            # Alternate the order, so a slow moment of the machine does not always fall on the same variant.
            order = variants if round_number % 2 == 0 else variants[::-1]
            for variant in order:
                server = Server(variant, redis_url, Path(logs))
                try:
                    run_client(drive(server, 4, max(20, int(100 * args.scale)), args.max_seconds, None))  # warm-up
                    for concurrency, calls in levels.items():
                        redis = redis_pid if variant.uses_redis else None
                        result = run_client(drive(server, concurrency, calls, args.max_seconds, redis))
                        results.setdefault((variant, concurrency), []).append(result)
                        print(
                            f"round {round_number + 1}: {variant.label:34} C={concurrency:<3} "
                            f"{result.calls_per_second:7.1f} calls/s  tool p50 {result.tool_ms(0.5):6.2f} ms",
                            file=sys.stderr,
                        )
                finally:
                    server.stop()
    report(variants, levels, results, args)


def _median(results: list[Result], measure: Any) -> float:
    return statistics.median(measure(result) for result in results)


def report(
    variants: list[Variant], levels: dict[int, int], results: dict[tuple[Variant, int], list[Result]], args: Any
) -> None:
    import uvicorn

    from vns_sdk._server import event_loop, http_parser

    print(
        f"\nPython {platform.python_version()}, uvicorn {uvicorn.__version__}, {http_parser()} + {event_loop()} "
        f"(vns-sdk serve); {os.cpu_count()} CPUs; {args.rounds} round(s); whole calls per level: "
        + ", ".join(f"C={c}: {n}" for c, n in levels.items())
        + f" (at most {args.max_seconds:g} s each)\n"
    )
    print("| C | app | server | workers | whole calls/s | tool p50 ms | tool p99 ms | server CPU ms / whole call |")
    print("|--:|---|---|--:|--:|--:|--:|--:|")
    for concurrency in levels:
        for variant in variants:
            runs = results.get((variant, concurrency))
            if not runs:
                continue
            cpu = f"{_median(runs, lambda r: r.cpu_ms_per_call):.2f}"
            if runs[0].redis_cpu:
                cpu += f" (+{_median(runs, lambda r: r.redis_ms_per_call):.2f} Redis)"
            print(
                f"| {concurrency} | {variant.app} | {variant.server} | {variant.workers} "
                f"| {_median(runs, lambda r: r.calls_per_second):.0f} "
                f"| {_median(runs, lambda r: r.tool_ms(0.5)):.2f} | {_median(runs, lambda r: r.tool_ms(0.99)):.2f} "
                f"| {cpu} |"
            )
    print("\nGoals:")
    # One worker keeps its calls in memory by default; two must share them through Redis. Against one worker
    # on the same Redis, the gap is what serving with two workers costs.
    for single, store in (("vnsapp", "in memory"), ("vnsapp-redis", "on Redis too")):
        for concurrency in levels:
            one = results.get((Variant(single, "vns-sdk serve", 1), concurrency))
            two = results.get((Variant("vnsapp", "vns-sdk serve", 2), concurrency))
            if one and two:
                gap = _median(two, lambda r: r.tool_ms(0.5)) - _median(one, lambda r: r.tool_ms(0.5))
                print(
                    f"- C={concurrency}: vnsapp tool p50, 2 workers - 1 worker {store} = {gap:+.2f} ms "
                    "(goal: within 1 ms)"
                )
    for workers, hand in ((1, "starlette"), (2, "starlette"), (2, "starlette-redis")):
        for concurrency in levels:
            ours = results.get((Variant("vnsapp", "vns-sdk serve", workers), concurrency))
            theirs = results.get((Variant(hand, "vns-sdk serve", workers), concurrency))
            if ours and theirs:
                ratio = _median(ours, lambda r: r.cpu_ms_per_call) / _median(theirs, lambda r: r.cpu_ms_per_call)
                line = (
                    f"- {workers} worker(s), C={concurrency}: server CPU per whole call, vnsapp / {hand} = "
                    f"{ratio:.2f} (goal: at most 1.00)"
                )
                if hand == "starlette-redis":  # the scripts move work into Redis: count its CPU too
                    both = _median(ours, lambda r: r.cpu_ms_per_call + r.redis_ms_per_call) / _median(
                        theirs, lambda r: r.cpu_ms_per_call + r.redis_ms_per_call
                    )
                    line += f"; with Redis's CPU, {both:.2f}"
                print(line)


def soak(args: argparse.Namespace) -> None:
    variant = Variant("vnsapp", "vns-sdk serve", args.soak_workers)
    with redis_server() as (redis_url, _), tempfile.TemporaryDirectory(prefix="bench-serve-") as logs:
        if args.soak_workers > 1 and redis_url is None:
            raise SystemExit("redis-server is not installed: soak one worker")
        server = Server(variant, redis_url, Path(logs))
        try:
            run_client(drive(server, 20, 1000, 600, None))  # warm-up: imports, caches, allocator pools
            before = {pid: rss_mb(pid) for pid in server.workers()}
            started = time.perf_counter()
            result = run_client(drive(server, 20, args.soak, 3600, None))
            after = {pid: rss_mb(pid) for pid in server.workers()}
        finally:
            server.stop()
    print(
        f"\n{variant.label}: {result.calls} whole calls in {time.perf_counter() - started:.0f} s "
        f"({result.calls_per_second:.0f}/s, tool p50 {result.tool_ms(0.5):.2f} ms), 20 kept-alive connections\n"
    )
    print("| worker | RSS at start (MB) | RSS at end (MB) | growth (MB) |")
    print("|--:|--:|--:|--:|")
    for number, pid in enumerate(before, 1):
        print(f"| {number} | {before[pid]:.1f} | {after[pid]:.1f} | {after[pid] - before[pid]:+.1f} |")


def main() -> None:
    if not sys.platform.startswith("linux"):
        raise SystemExit("this benchmark reads /proc: run it on Linux")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeat the comparison and report medians")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of calls per level")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time limit of each level")
    parser.add_argument("--baseline", action="store_true", help="also plain uvicorn --workers 2 (h11, asyncio)")
    parser.add_argument("--only", choices=["vnsapp", "starlette"], help="run only this app's variants")
    parser.add_argument("--soak", type=int, metavar="CALLS", help="soak mode: RSS before and after CALLS whole calls")
    parser.add_argument("--soak-workers", type=int, default=1, help="workers in soak mode (2+ use Redis)")
    args = parser.parse_args()
    if args.soak:
        soak(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
