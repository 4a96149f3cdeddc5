"""The server's HTTP protocols bound a request's head: a connection that sends nothing, or its headers too slowly
or too many, is closed instead of held for ever.

Each case runs a uvicorn server in process with the protocol of `vns-sdk serve` (``--keep-alive 1``), and the
slow cases also with uvicorn's own protocol, which keeps the connection open: that shows the check can fail.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vns_sdk._server.head import MAX_HEAD_SIZE, MAX_REST_SIZE
from vns_sdk._server.nodelay import NoDelayH11Protocol
from vns_sdk._server.nodelay_httptools import NoDelayHttpToolsProtocol

OURS = {"h11": NoDelayH11Protocol, "httptools": NoDelayHttpToolsProtocol}
PLAIN = {"h11": H11Protocol, "httptools": HttpToolsProtocol}
# How long a test waits for the server to close a connection: far longer than the 1 s it is given.
PATIENCE = 20.0


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def served(protocol: type[asyncio.Protocol], app: Any = _ok) -> AsyncIterator[int]:
    """A server with ``protocol`` and a one-second keep-alive on a free loopback port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=protocol, lifespan="off", log_config=None, timeout_keep_alive=1
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
        [listener] = server.servers
        yield listener.sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await serving


async def closed_by_server(reader: asyncio.StreamReader, wait: float = PATIENCE) -> bytes | None:
    """What the server sent before closing the connection, or None if it was still open after ``wait`` seconds."""
    received = bytearray()

    async def read_to_end() -> None:
        while chunk := await reader.read(65536):
            received.extend(chunk)

    try:
        await asyncio.wait_for(read_to_end(), wait)
    except asyncio.TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return bytes(received)


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {"asyncio": asyncio.new_event_loop}
try:
    import uvloop

    LOOPS["uvloop"] = uvloop.new_event_loop
except ImportError:  # pragma: no cover - the dev extra installs it
    pass


@pytest.fixture(params=list(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Callable[[], Coroutine[Any, Any, None]]], None]:
    """Runs a test's coroutine on each event loop `vns-sdk serve` may use."""

    def run_test(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
        loop = LOOPS[request.param]()
        try:
            loop.run_until_complete(test())
        finally:
            loop.close()

    return run_test


Runner = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]


@pytest.mark.parametrize("parser", list(OURS))
def test_a_connection_that_sends_nothing_is_closed(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(OURS[parser]) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert await closed_by_server(reader) == b""
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(OURS))
def test_headers_sent_too_slowly_are_cut_off(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(OURS[parser]) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n")

            async def trickle() -> None:
                for _ in range(int(PATIENCE * 4)):
                    writer.write(b"X")
                    await asyncio.sleep(0.25)

            trickling = asyncio.create_task(trickle())
            assert await closed_by_server(reader) == b""
            trickling.cancel()
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(PLAIN))
def test_uvicorns_own_protocols_keep_such_a_connection_open(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(PLAIN[parser]) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n")
            assert await closed_by_server(reader, wait=3.0) is None  # three times the keep-alive, still open
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(OURS))
def test_a_head_over_the_limit_is_refused(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(OURS[parser]) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: ")
            # Just over the limit (h11's own is 16 KiB), in pieces as they come over a network, and no more: bytes
            # the server has not read when it closes would turn its close into a reset that loses the answer.
            size = MAX_HEAD_SIZE + 1024 if parser == "httptools" else 20 * 1024
            for start in range(0, size, 4096):
                writer.write(b"a" * min(4096, size - start))
                await writer.drain()
                await asyncio.sleep(0.001)
            answer = await closed_by_server(reader)
            assert answer is not None
            # h11 refuses first, at its own smaller limit, with a 400; httptools sets no limit: ours is a 431.
            assert answer.startswith(b"HTTP/1.1 431 " if parser == "httptools" else b"HTTP/1.1 400 "), answer[:80]
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(OURS))
def test_kept_alive_and_pipelined_requests_are_served(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(OURS[parser]) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            request = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
            for _ in range(3):  # one request after the other, each head in two pieces
                writer.write(request[:10])
                await asyncio.sleep(0.2)
                writer.write(request[10:])
                assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
            writer.write(request * 3)  # three at once
            for _ in range(3):
                assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
            await asyncio.sleep(0.5)  # idle, but for less than the keep-alive: still served
            writer.write(request)
            assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(OURS))
def test_a_body_answered_before_it_is_read_is_no_head(run: Runner, parser: str) -> None:
    # The app answers at once; the body keeps coming: its bytes are a body's, however many, not a head's.
    async def test() -> None:
        async with served(OURS[parser]) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            size = 2 * MAX_HEAD_SIZE
            writer.write(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n" % size)
            assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
            for _ in range(0, size, 4096):
                writer.write(b"a" * 4096)
                await writer.drain()
                await asyncio.sleep(0.001)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            answer = await reader.readuntil(b"ok")
            assert answer.startswith(b"HTTP/1.1 200") and b"431" not in answer, answer
            writer.close()

    run(test)


async def _refuse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers before reading the body, as a webhook refused for its credentials is."""
    await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"no"})


REFUSED_HEAD = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4000\r\n\r\n"


async def answered_early(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection whose request was answered (401) after its head and 10 of its body's 4,000 bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(REFUSED_HEAD + b"a" * 10)
    assert (await reader.readuntil(b"no")).startswith(b"HTTP/1.1 401")
    return reader, writer


async def _trickle(writer: asyncio.StreamWriter) -> None:
    for _ in range(int(PATIENCE * 4)):
        writer.write(b"a")
        await asyncio.sleep(0.25)


@pytest.mark.parametrize("parser", list(OURS))
@pytest.mark.parametrize("then", ["trickled", "sent-then-idle"])
def test_the_rest_of_a_body_answered_early_is_bounded(run: Runner, parser: str, then: str) -> None:
    async def test() -> None:
        async with served(OURS[parser], _refuse) as port:
            reader, writer = await answered_early(port)
            await asyncio.sleep(0.3)  # the rest comes after the answer
            trickling = None
            if then == "trickled":
                trickling = asyncio.create_task(_trickle(writer))
            else:
                writer.write(b"a" * 3990)
            assert await closed_by_server(reader) == b""
            if trickling is not None:
                trickling.cancel()
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(PLAIN))
def test_uvicorns_own_protocols_hold_the_rest_of_a_body_answered_early(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(PLAIN[parser], _refuse) as port:
            reader, writer = await answered_early(port)
            await asyncio.sleep(0.3)
            trickling = asyncio.create_task(_trickle(writer))
            assert await closed_by_server(reader, wait=3.0) is None  # three times the keep-alive, still open
            trickling.cancel()
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(OURS))
def test_a_request_after_a_body_answered_early_is_served(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(OURS[parser], _refuse) as port:
            reader, writer = await answered_early(port)
            await asyncio.sleep(0.3)
            writer.write(b"a" * 3990)
            await asyncio.sleep(0.3)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            assert (await reader.readuntil(b"no")).startswith(b"HTTP/1.1 401")
            # Past the rest's keep-alive second, but within the keep-alive after that answer: still served.
            await asyncio.sleep(0.6)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            assert (await reader.readuntil(b"no")).startswith(b"HTTP/1.1 401")
            writer.close()

    run(test)


@pytest.mark.parametrize("parser", list(OURS))
def test_a_head_after_a_body_answered_early_is_bounded_in_size(run: Runner, parser: str) -> None:
    async def test() -> None:
        async with served(OURS[parser], _refuse) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 20\r\n\r\n" + b"a" * 10)
            assert (await reader.readuntil(b"no")).startswith(b"HTTP/1.1 401")
            await asyncio.sleep(0.1)
            writer.write(b"a" * 10 + b"GET / HTTP/1.1\r\nHost: test\r\n")
            pad = b"X-Pad: " + b"p" * (64 * 1024 - 9) + b"\r\n"
            with contextlib.suppress(ConnectionError):
                for _ in range(MAX_REST_SIZE // len(pad) + 2):  # headers past the limit, at once
                    writer.write(pad)
                    await writer.drain()
            answer = await closed_by_server(reader, wait=0.7)  # closed for its size, before the keep-alive
            # h11 refuses the head first, at its own 16 KiB, with a 400; httptools keeps it: ours closes.
            assert answer is not None and answer.startswith(b"HTTP/1.1 400 " if parser == "h11" else b""), answer
            writer.close()

    run(test)
