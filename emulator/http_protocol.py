"""The HTTP/1.1 connection under the app: uvicorn's httptools protocol with the limits a
public front door has and uvicorn leaves out.

- The request line and headers are bounded (`MAX_REQUEST_LINE_BYTES`,
  `MAX_HEAD_BYTES`, the figures of an AWS Application Load Balancer): a longer head
  gets a 400 with an AWS-shaped body, and is never buffered past the limit.
- A client that goes quiet is timed out (`--client-timeout-seconds`): a connection that
  sends nothing after connecting is closed; one that stops halfway through its head or
  body gets a 408 and is closed. (uvicorn itself only times out idle keep-alive
  connections after a response.) One timer per event loop checks every connection a few
  times per timeout, so a request pays nothing for it but a clock read per read.

Without httptools (uvicorn installed without its `standard` extra) uvicorn's h11
protocol is used, with h11's own head limit and no timeouts.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import orjson

from emulator.config import Config

MAX_REQUEST_LINE_BYTES = 16 * 1024
MAX_HEAD_BYTES = 64 * 1024

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - depends on the installation
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def aws_error(status: int, type_name: str, message: str) -> bytes:
    """A whole HTTP response in AWS's JSON error shape, closing the connection."""
    body = orjson.dumps({"__type": type_name, "message": message})
    reason = {400: b"Bad Request", 408: b"Request Timeout"}[status]
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/x-amz-json-1.0\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % (status, reason, len(body))
    ) + body


#: The head is too large. AWS's exact answer is not known; a ValidationException is the
#: error clients already handle for a request DynamoDB refuses for its size.
HEAD_TOO_LARGE = aws_error(
    400,
    "com.amazon.coral.validate#ValidationException",
    f"The request line and headers must not exceed {MAX_HEAD_BYTES} bytes "
    f"(the request line {MAX_REQUEST_LINE_BYTES})",
)
#: The client stopped sending mid-request (the emulator's wording; AWS's is not known).
STALLED = aws_error(
    408,
    "com.amazon.coral.service#RequestTimeoutException",
    "The client stopped sending its request before it was complete",
)


def protocol_options(config: Config) -> dict[str, Any]:
    """The uvicorn.Config arguments that install the protocol for `config`."""
    if HttpToolsProtocol is None:  # pragma: no cover - depends on the installation
        return {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
    timeout = config.client_timeout_seconds
    return {"http": type("EmulatorHttp", (EmulatorHttpProtocol,), {"client_timeout": timeout})}


if HttpToolsProtocol is not None:
    import httptools

    class _HeadTooLarge(Exception):
        """Raised from a parser callback to stop parsing a head past the limits."""

    class EmulatorHttpProtocol(HttpToolsProtocol):
        """The hot path pays one clock read and a comparison per read, and one extra
        call per request (`on_headers_complete`); everything else is per connection."""

        client_timeout: float = 10.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.last_read = self.loop.time()
            self.head_bytes = 0  # bytes read since the last head was complete
            _Watch.of(self.loop, self.client_timeout).add(self)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            _Watch.of(self.loop, self.client_timeout).discard(self)

        def data_received(self, data: bytes) -> None:
            """uvicorn's, plus the head limit: bytes read while a head is incomplete are
            counted, and a head past the limit is answered and the connection closed."""
            self.last_read = self.loop.time()
            cycle = self.cycle
            if cycle is None or not cycle.more_body:
                self.head_bytes += len(data)
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                self._unsupported_upgrade_warning()  # no websockets here
                return
            except httptools.HttpParserError as error:
                if isinstance(error.__cause__ or error.__context__, _HeadTooLarge):
                    self.refuse(HEAD_TOO_LARGE)
                    return
                message = "Invalid HTTP request received."
                self.logger.warning(message)
                self.send_400_response(message)
                return
            cycle = self.cycle
            if (cycle is None or not cycle.more_body) and self.head_bytes > MAX_HEAD_BYTES:
                self.refuse(HEAD_TOO_LARGE)  # still no end of the head in sight

        def on_headers_complete(self) -> None:
            if self.head_bytes > MAX_HEAD_BYTES or len(self.url) > MAX_REQUEST_LINE_BYTES:
                # The raw count may include body bytes read with the head: measure it.
                size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
                if size > MAX_HEAD_BYTES or len(self.url) > MAX_REQUEST_LINE_BYTES:
                    raise _HeadTooLarge()  # before a request cycle exists for it
            self.head_bytes = 0
            super().on_headers_complete()

        def refuse(self, response: bytes) -> None:
            if not self.transport.is_closing():
                self.transport.write(response)
                self.transport.close()

        def waits_for_client(self) -> bytes | None:
            """What to answer a client that went quiet now (b"" to just close), or None
            when the connection is not waiting for it."""
            if self.head_bytes:
                return STALLED  # halfway through a head
            cycle = self.cycle
            if cycle is None:
                return b""  # connected, and never sent anything
            if (
                cycle.more_body
                and not cycle.response_complete
                and not self.flow.read_paused  # paused: the app is behind, not the client
            ):
                return STALLED
            return None

    class _Watch:
        """The one timer per event loop that closes connections whose client went quiet."""

        _by_loop: ClassVar[dict[asyncio.AbstractEventLoop, _Watch]] = {}

        def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
            self.loop = loop
            self.timeout = timeout
            self.connections: set[EmulatorHttpProtocol] = set()
            self.handle: asyncio.TimerHandle | None = None

        @classmethod
        def of(cls, loop: asyncio.AbstractEventLoop, timeout: float) -> _Watch:
            watch = cls._by_loop.get(loop)
            if watch is None or watch.timeout != timeout:
                watch = cls._by_loop[loop] = cls(loop, timeout)
            return watch

        def add(self, connection: EmulatorHttpProtocol) -> None:
            self.connections.add(connection)
            if self.handle is None:
                self.handle = self.loop.call_later(self.interval, self.check)

        def discard(self, connection: EmulatorHttpProtocol) -> None:
            self.connections.discard(connection)

        @property
        def interval(self) -> float:
            return max(0.05, min(1.0, self.timeout / 4))

        def check(self) -> None:
            now = self.loop.time()
            for connection in list(self.connections):
                if connection.transport.is_closing():
                    self.connections.discard(connection)
                    continue
                if now - connection.last_read < self.timeout:
                    continue
                answer = connection.waits_for_client()
                if answer is None:
                    continue
                self.connections.discard(connection)
                if answer:
                    connection.refuse(answer)
                else:
                    connection.transport.close()
            if self.connections:
                self.handle = self.loop.call_later(self.interval, self.check)
            else:
                self.handle = None
                self._by_loop.pop(self.loop, None)
