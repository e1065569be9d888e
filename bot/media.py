"""Case photos as the office's own files: fetched from Telegram once, kept in the media store, read from there."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiogram import Bot
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.kernel.errors import DomainError, Invalid
from domain.kernel.media import MAX_BYTES, MediaStore, Picture, clean_picture, stored_key
from storage.media import MediaQueue

log = logging.getLogger(__name__)
# Photos fetched from Telegram per runner round; the rest wait for the next (a round is seconds apart).
FETCH_BATCH = 20
LINK_TIMEOUT_S = 15
LINK_REDIRECTS = 3


def _public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


class _PublicOnly(AbstractResolver):
    """Resolves names to public addresses only: a link must not make the server fetch from inside the office's
    network (SSRF), also not through a name that points there."""

    def __init__(self) -> None:
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The name's public addresses; none is a refusal."""
        found = [r for r in await self.inner.resolve(host, port, family) if _public_address(r["host"])]
        if not found:
            raise OSError(f"{host} has no public address")
        return found

    async def close(self) -> None:
        """Nothing held."""
        await self.inner.close()


class Photos:
    """Photos for the desk and the sender: from the store; a Telegram photo not yet kept is fetched first."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        store: MediaStore,
        clock: Callable[[], datetime],
        private_links: bool = False,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.store = store
        self.clock = clock
        self.private_links = private_links

    async def read(self, ref: str) -> bytes | None:
        """The photo's bytes (JPEG, no EXIF), or None if it cannot be had now."""
        key = stored_key(ref)
        if key is None:
            async with self.sessions() as session:
                key = await MediaQueue(session, self.clock).key_of(ref)
            if key is None:
                key = await self.fetch(ref)
        return await self.store.get(key) if key else None

    async def keep(self, raw: bytes) -> Picture:
        """A photo handed in (Open311): checked, cleaned, kept; Invalid if it is not a photo we take."""
        picture = clean_picture(raw)
        await self.store.put(picture.key, picture.data)
        return picture

    async def fetch(self, file_id: str) -> str | None:
        """Fetch a Telegram photo into the store once; its key, or None (tried again later, up to a limit)."""
        try:
            file = await self.bot.get_file(file_id)
            if not file.file_path:
                raise OSError("no file path")
            buffer = await self.bot.download_file(file.file_path)
            if buffer is None:
                raise OSError("no content")
            picture = await self.keep(buffer.read())
        except Exception as e:  # noqa: BLE001 - any failure is one more try noted; the case keeps its file id
            reason = e.code if isinstance(e, DomainError) else f"{type(e).__name__}: {e}"
            async with self.sessions.begin() as session:
                gave_up = await MediaQueue(session, self.clock).failed(file_id, reason)
            (log.error if gave_up else log.warning)("photo %s not kept: %s", file_id[:16], reason)
            return None
        async with self.sessions.begin() as session:
            await MediaQueue(session, self.clock).stored(file_id, picture.key)
        return picture.key

    async def fetch_due(self, limit: int = FETCH_BATCH) -> int:
        """The runner's share: photos noted since the last round; how many were kept."""
        async with self.sessions() as session:
            due = await MediaQueue(session, self.clock).due(limit)
        kept = 0
        for file_id in due:
            kept += await self.fetch(file_id) is not None
        return kept

    async def download(self, url: str) -> bytes:
        """A photo behind a link a system sent (Open311 media_url): public hosts only, at most MAX_BYTES,
        a few redirects, LINK_TIMEOUT_S in all; Invalid("media_unreachable") when it cannot be had."""
        connector = aiohttp.TCPConnector(resolver=None if self.private_links else _PublicOnly())
        timeout = aiohttp.ClientTimeout(total=LINK_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
                for _ in range(LINK_REDIRECTS + 1):
                    self._check_link(url)
                    async with http.get(url, allow_redirects=False) as response:
                        if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                            url = urljoin(url, response.headers["Location"])
                            continue
                        if response.status != 200:
                            raise OSError(f"HTTP {response.status}")
                        data = await response.content.read(MAX_BYTES + 1)
                        if len(data) > MAX_BYTES:
                            raise Invalid("photo_too_large", max_mb=MAX_BYTES // (1024 * 1024))
                        return data
                raise OSError("too many redirects")
        except DomainError:
            raise
        except (TimeoutError, OSError, aiohttp.ClientError, ValueError) as e:
            log.info("media link not fetched: %s", e)
            raise Invalid("media_unreachable") from None

    def _check_link(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OSError("not an http(s) link")
        if self.private_links:
            return
        try:
            literal: Any = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return  # a name: the resolver keeps it to public addresses
        if not _public_address(str(literal)):
            raise OSError("a private address")
