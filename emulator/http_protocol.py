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

- AWS JSON calls are answered on the spot (`DirectCalls`): a whole POST / request whose
  operation works in one step is handed to the app from the parser's callback and its
  response written at once, with no ASGI scope, task, receive or send. Every other
  request (admin routes, the Lambda API, staged or large calls, chunked or compressed
  bodies, `Expect: 100-continue`, `Connection: close`, pipelined behind an ASGI one)
  goes through uvicorn's ASGI cycle as before. The response bytes are the same either
  way (uvicorn's status line and default headers, then the app's).

Without httptools (uvicorn installed without its `standard` extra) uvicorn's h11
protocol is used, with h11's own head limit and no timeouts (and no direct path).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Protocol

import orjson

from emulator.config import Config

MAX_REQUEST_LINE_BYTES = 16 * 1024
MAX_HEAD_BYTES = 64 * 1024
#: Larger bodies take the ASGI path (the app decodes them on a worker thread).
DIRECT_BODY_BYTES = 1024 * 1024

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


class DirectCalls(Protocol):
    """What the app offers the connection for answering AWS calls on the spot."""

    def answers_directly(self, target: bytes) -> bool:
        """Whether a call to `target` (an X-Amz-Target value) is answered in one step."""
        ...

    def answer(self, target: bytes, authorization: bytes | None, body: bytes) -> tuple[int, bytes]:
        """The response's status, and its own headers (each ending in CRLF), a blank line
        and its body; the status line and the server's default headers come first."""
        ...


def protocol_options(config: Config, direct: DirectCalls | None = None) -> dict[str, Any]:
    """The uvicorn.Config arguments that install the protocol for `config`; `direct`
    answers AWS calls without the ASGI cycle."""
    if HttpToolsProtocol is None:  # pragma: no cover - depends on the installation
        return {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
    timeout = config.client_timeout_seconds
    members = {"client_timeout": timeout, "direct": direct}
    return {"http": type("EmulatorHttp", (EmulatorHttpProtocol,), members)}


if HttpToolsProtocol is not None:
    import httptools
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE

    #: (the server's default headers list, its encoding): the list is replaced once a
    #: second (its date header), so the encoding is redone as often.
    _encoded_defaults: list[Any] = [None, b""]

    def _default_headers(headers: list[tuple[bytes, bytes]]) -> bytes:
        if headers is not _encoded_defaults[0]:
            _encoded_defaults[1] = b"".join(b"%s: %s\r\n" % pair for pair in headers)
            _encoded_defaults[0] = headers
        encoded: bytes = _encoded_defaults[1]
        return encoded

    class _HeadTooLarge(Exception):
        """Raised from a parser callback to stop parsing a head past the limits."""

    class EmulatorHttpProtocol(HttpToolsProtocol):
        """The hot path pays one clock read and a comparison per read, and one extra
        call per request (`on_headers_complete`); everything else is per connection.
        AWS calls the app answers in one step skip the ASGI cycle (`direct`)."""

        client_timeout: float = 10.0
        direct: DirectCalls | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.last_read = self.loop.time()
            self.head_bytes = 0  # bytes read since the last head was complete
            #: The body parts of the request being answered directly (None: no such
            #: request in progress).
            self.direct_body: list[bytes] | None = None
            #: Whether the last request was answered directly and the connection has
            #: been quiet since: its keep-alive timeout is the watch's business.
            self.direct_idle = False
            self.read_paused_for_writes = False
            self.close_after_response = False
            self.target: bytes | None = None
            self.authorization: bytes | None = None
            self.content_length = -1
            self.plain_body = True
            _Watch.of(self.loop, self.client_timeout).add(self)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            _Watch.of(self.loop, self.client_timeout).discard(self)

        def reading_head(self) -> bool:
            if self.direct_body is not None:
                return False
            cycle = self.cycle
            return cycle is None or not cycle.more_body

        def data_received(self, data: bytes) -> None:
            """uvicorn's, plus the head limit: bytes read while a head is incomplete are
            counted, and a head past the limit is answered and the connection closed."""
            self.last_read = self.loop.time()
            self.direct_idle = False
            if self.reading_head():
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
            if self.reading_head() and self.head_bytes > MAX_HEAD_BYTES:
                self.refuse(HEAD_TOO_LARGE)  # still no end of the head in sight

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.target = self.authorization = None
            self.content_length = -1
            self.plain_body = True

        def on_header(self, name: bytes, value: bytes) -> None:
            """uvicorn's, noting on the way what the direct path needs to know."""
            name = name.lower()
            value = value.rstrip(b" \t")
            if name == b"x-amz-target":
                self.target = value
            elif name == b"authorization":
                self.authorization = value
            elif name == b"content-length":
                self.content_length = int(value) if value.isdigit() else -1
            elif name == b"expect" or name == b"content-encoding" or name == b"transfer-encoding":
                self.plain_body = False  # uvicorn's cycle (and the app's ASGI path) deal
                if name == b"expect" and value.lower() == b"100-continue":
                    self.expect_100_continue = True
            self.headers.append((name, value))

        def on_headers_complete(self) -> None:
            if self.head_bytes > MAX_HEAD_BYTES or len(self.url) > MAX_REQUEST_LINE_BYTES:
                # The raw count may include body bytes read with the head: measure it.
                size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
                if size > MAX_HEAD_BYTES or len(self.url) > MAX_REQUEST_LINE_BYTES:
                    raise _HeadTooLarge()  # before a request cycle exists for it
            self.head_bytes = 0
            target = self.target
            direct = self.direct
            if (
                target is not None
                and direct is not None
                and self.plain_body
                and 0 <= self.content_length <= DIRECT_BODY_BYTES
                and self.url == b"/"
                and (self.cycle is None or self.cycle.response_complete)
                and not self.pipeline
                and self.parser.get_method() == b"POST"
                and self.parser.should_keep_alive()
                and self.parser.get_http_version() == "1.1"
                and direct.answers_directly(target)
            ):
                self.direct_body = []
                return
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            parts = self.direct_body
            if parts is None:
                super().on_body(body)
            else:
                parts.append(body)

        def on_message_complete(self) -> None:
            parts = self.direct_body
            if parts is None:
                super().on_message_complete()
                return
            self.direct_body = None
            body = parts[0] if len(parts) == 1 else b"".join(parts)
            assert self.direct is not None and self.target is not None
            status, answer = self.direct.answer(self.target, self.authorization, body)
            transport = self.transport
            if transport.is_closing():
                return
            defaults = _default_headers(self.server_state.default_headers)
            transport.write(STATUS_LINE[status] + defaults + answer)
            self.server_state.total_requests += 1
            if self.close_after_response:
                transport.close()
                return
            # The watch times out the keep-alive from here (as uvicorn's timer does, from
            # the answer: a slow answer is not the client's quiet).
            self.direct_idle = True
            self.last_read = self.loop.time()
            if self.flow.write_paused:
                # The client is not reading its answers: stop reading its requests.
                self.read_paused_for_writes = True
                self.flow.pause_reading()

        def resume_writing(self) -> None:
            super().resume_writing()
            if self.read_paused_for_writes:
                self.read_paused_for_writes = False
                self.flow.resume_reading()

        def shutdown(self) -> None:
            if self.direct_body is not None:
                self.close_after_response = True  # answer the request being read first
                return
            super().shutdown()

        def refuse(self, response: bytes) -> None:
            if not self.transport.is_closing():
                self.transport.write(response)
                self.transport.close()

        def waits_for_client(self) -> bytes | None:
            """What to answer a client that went quiet now (b"" to just close), or None
            when the connection is not waiting for it."""
            if self.direct_body is not None:
                return STALLED  # halfway through the body of a call answered directly
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
                if connection.direct_idle:
                    # uvicorn's keep-alive timeout, for connections whose last answer
                    # skipped its cycle (and so never armed uvicorn's own timer).
                    if now - connection.last_read >= connection.timeout_keep_alive:
                        self.connections.discard(connection)
                        connection.transport.close()
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
