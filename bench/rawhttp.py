"""A lean HTTP/1.1 client for the load generator: keep-alive connections on asyncio streams.

The bench's client runs on the same cores as the server it measures, so what it spends is taken
from the server: httpx's async client cost about 0.16 of a core at 50 requests/s here (its
request and response models, header normalisation, h11's state machine), the server's compose
stage more than that. This client writes a pre-built request and reads the status line, the
headers it needs (Content-Length, Transfer-Encoding, Connection) and the body; nothing else. It
speaks to any HTTP/1.1 server (chunked answers are read too) and is used only by the bench.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status_code: int
    content: bytes


class RawClient:
    """``async with RawClient(base_url, max_connections) as c: r = await c.post(path, body, headers)``.

    At most ``max_connections`` connections, each reused while the server keeps it open."""

    def __init__(self, base_url: str, max_connections: int, timeout_s: float = 60.0):
        u = urlsplit(base_url)
        if u.scheme != "http":
            raise ValueError("RawClient speaks plain http only")
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.timeout_s = timeout_s
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc) -> None:
        for _, w in self._idle:
            w.close()
        self._idle.clear()

    async def post(self, path: str, content: bytes, headers: dict[str, str]) -> RawResponse:
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(content)}"]
        head += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content
        async with self._slots:
            conn = self._idle.pop() if self._idle else await asyncio.open_connection(self.host, self.port)
            try:
                resp, keep = await asyncio.wait_for(self._exchange(conn, request), self.timeout_s)
            except BaseException:
                conn[1].close()
                raise
            if keep:
                self._idle.append(conn)
            else:
                conn[1].close()
            return resp

    @staticmethod
    async def _exchange(conn, request: bytes) -> tuple[RawResponse, bool]:
        reader, writer = conn
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked, keep = None, False, True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value
            elif name == "connection":
                keep = value != "close"
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # (no trailers are sent to us)
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body, keep = await reader.read(), False  # until the server closes
        return RawResponse(status, body), keep
