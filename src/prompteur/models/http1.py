"""A small keep-alive HTTP/1.1 client for the one request an eval makes thousands of times: a
JSON POST answered with a JSON body.

Why not httpx for this: its connection pool matches every waiting request against every
connection and each request goes through several layers (auth, redirects, transports, anyio),
about 1.3 ms of CPU per call on the dev machine; at 100 calls in flight on 2 cores that, not the
server, bounded a run (benchmarks/RESULTS.md). Here a request is one write and two reads on a
pooled asyncio stream (~0.1 ms). httpx stays in charge of everything else (streaming, proxies,
credentials in the URL): `HTTPModel` only takes this path when nothing of that applies.

Semantics kept from httpx as HTTPModel used it: no redirects followed, gzip/deflate bodies
decoded, keep-alive connections without a cap on their number, idle ones dropped after a few
seconds (before the usual 5 s server-side idle timeout, which would otherwise race a reuse).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import zlib
from dataclasses import dataclass

__all__ = ["Pool", "Reply", "WireError", "WireTimeout"]

IDLE_EXPIRY = 4.0  # seconds; servers commonly close idle keep-alive connections after 5 s
MAX_IDLE = 512
_READ_LIMIT = 1 << 20  # longest status line + headers block accepted


class WireError(Exception):
    """The exchange failed below HTTP (refused, reset, closed early, malformed reply)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind  # named like httpx's exceptions, for familiar messages
        super().__init__(f"{kind}: {detail}")


class WireTimeout(WireError):
    pass


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    reason: str
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _Conn:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        return (
            now - self.idle_since < IDLE_EXPIRY
            and not self.reader.at_eof()
            and not self.writer.transport.is_closing()
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Pool:
    """Keep-alive connections to one origin, bound to the event loop that opened them."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        host_header: str,
        ssl_context: ssl.SSLContext | None,
        headers: bytes,
        connect_timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout
        # Everything of the request head but the request line and the length, encoded once.
        self._head = b"Host: " + host_header.encode("ascii") + b"\r\n" + headers
        self._idle: list[_Conn] = []

    async def _connect(self) -> _Conn:
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl else None,
                    limit=_READ_LIMIT,
                )
        except TimeoutError:
            raise WireTimeout("ConnectTimeout", "timed out connecting") from None
        except (OSError, ssl.SSLError) as exc:
            raise WireError("ConnectError", str(exc) or type(exc).__name__) from None
        return _Conn(reader, writer)

    def _take(self) -> _Conn | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.usable(now):
                return conn
            conn.close()
        return None

    async def post(self, target: str, body: bytes, timeout: float) -> Reply:
        """POST `body` (JSON) to `target` (path and query); the whole exchange within `timeout`."""
        request = (
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n"
            % (target.encode("ascii"), self._head, len(body))
            + body
        )
        conn: _Conn | None = None
        try:
            async with asyncio.timeout(timeout):
                conn = self._take() or await self._connect()
                conn.writer.write(request)
                if len(request) > 65536:  # above the transport's high-water mark
                    await conn.writer.drain()
                reply, reusable = await _read_reply(conn.reader)
        except TimeoutError:
            if conn is not None:
                conn.close()
            raise WireTimeout("ReadTimeout", f"no complete reply in {timeout:g} s") from None
        except WireError:
            if conn is not None:
                conn.close()
            raise
        except asyncio.IncompleteReadError:
            conn.close()  # type: ignore[union-attr]  # only raised once connected
            raise WireError(
                "RemoteProtocolError", "server disconnected without sending a complete reply"
            ) from None
        except (OSError, asyncio.LimitOverrunError, ValueError) as exc:
            if conn is not None:
                conn.close()
            kind = "ConnectError" if isinstance(exc, OSError) else "RemoteProtocolError"
            raise WireError(kind, str(exc) or type(exc).__name__) from None
        except BaseException:  # cancelled mid-exchange: the connection's state is unknown
            if conn is not None:
                conn.close()
            raise
        if reusable and len(self._idle) < MAX_IDLE:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()
        return reply

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.writer.wait_closed()


async def _read_reply(reader: asyncio.StreamReader) -> tuple[Reply, bool]:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ValueError(f"malformed status line {lines[0][:100]!r}")
        status = int(code)
        if status >= 200:
            break
        # 1xx interim answers (103 Early Hints...) precede the real one
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"malformed header line {line[:100]!r}")
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    reusable = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    if status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length < 0:
            raise ValueError("negative Content-Length")
        body = await reader.readexactly(length)
    else:  # delimited by the end of the connection
        body = await reader.read()
        reusable = False
    encoding = headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "x-gzip"):
        body = _inflate(body, 16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        try:
            body = _inflate(body, zlib.MAX_WBITS)
        except ValueError:
            body = _inflate(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send it
    return Reply(status, reason, headers, body), reusable


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        chunk = await reader.readexactly(size + 2)
        parts.append(chunk[:-2])


def _inflate(body: bytes, wbits: int) -> bytes:
    try:
        return zlib.decompress(body, wbits)
    except zlib.error as exc:
        raise ValueError(f"undecodable body: {exc}") from None
