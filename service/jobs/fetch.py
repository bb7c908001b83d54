"""A row's ``product.image_url``, fetched when the row runs: public hosts only (each redirect
checked again, DNS rebinding closed by connecting to the checked address), bounded in bytes."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx


class FetchError(ValueError):
    """An image_url that could not be fetched (the row fails with this reason)."""


async def _check_host(url: str, allow_private: bool) -> str:
    """Resolve ``url``'s host and check every address -> the address to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("must be an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise FetchError(f"cannot resolve {parts.hostname}: {e.strerror or e}") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not allow_private and not ip.is_global:
            raise FetchError(f"{parts.hostname} is a private, loopback or link-local address "
                             "(ADLOOM_JOB_FETCH_PRIVATE=true allows it)")
    if not infos:
        raise FetchError(f"cannot resolve {parts.hostname}")
    return str(infos[0][4][0])


async def fetch_image(url: str, max_bytes: int, allow_private: bool, redirects: int = 3) -> bytes:
    """GET an image_url: public hosts only (each redirect checked again), at most ``max_bytes``.
    The connection goes to the very address that was checked (the URL's host kept in the Host
    header and, for https, in SNI and the certificate check), so a DNS answer that changes between
    the check and the connection (rebinding) cannot point the fetch at a private address."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), follow_redirects=False) as client:
        for _ in range(redirects + 1):
            address = await _check_host(url, allow_private)
            target = httpx.URL(url)
            pinned = target.copy_with(host=address)
            headers = {"Host": target.netloc.decode("ascii")}
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            try:
                async with client.stream("GET", pinned, headers=headers, extensions=extensions) as r:
                    if r.is_redirect and "location" in r.headers:
                        url = str(target.join(r.headers["location"]))
                        continue
                    if r.status_code != 200:
                        raise FetchError(f"HTTP {r.status_code}")
                    data = bytearray()
                    async for chunk in r.aiter_bytes():
                        data += chunk
                        if len(data) > max_bytes:
                            raise FetchError(f"larger than {max_bytes} bytes")
                    return bytes(data)
            except httpx.HTTPError as e:
                raise FetchError(f"{type(e).__name__}") from None
    raise FetchError("too many redirects")
