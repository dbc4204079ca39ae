"""The QR codes of invitation links, drawn once per card version and kept.

A card's QR code is a function of its link, and the link names the card version
(:func:`server.office.invitations.invitation_url`), so the link is the key: a re-issued
card has a new link, draws a new code, and its old entry ages out of the cache. Codes
are drawn in the office's worker processes (:mod:`server.office.workshop`), in chunks, so
a body of thousands costs the hall nothing and its second showing costs nothing at all.
"""

from __future__ import annotations

import asyncio
import io
from collections import OrderedDict
from collections.abc import Iterable

import segno

from server.office.workshop import Workshop

CHUNK = 50  # codes a worker draws per task: the pool's workers share a big body
LIMIT = 20_000  # entries kept (a city congress and its standing committee, several times over)


def draw(url: str) -> tuple[str, bytes]:
    """The SVG the cards page shows and the PNG the DOCX holds, from one encoding."""
    code = segno.make(url, error="m")
    png = io.BytesIO()
    code.save(png, kind="png", scale=6, border=2)
    return str(code.svg_inline(omitsize=True, border=2)), png.getvalue()


def draw_many(urls: list[str]) -> list[tuple[str, bytes]]:
    return [draw(url) for url in urls]


class QrCache:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._codes: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._codes)

    def get(self, url: str) -> tuple[str, bytes] | None:
        found = self._codes.get(url)
        if found is not None:
            self._codes.move_to_end(url)
        return found

    def put(self, url: str, code: tuple[str, bytes]) -> None:
        self._codes[url] = code
        self._codes.move_to_end(url)
        while len(self._codes) > self.limit:
            self._codes.popitem(last=False)

    async def codes(self, urls: Iterable[str], workshop: Workshop) -> dict[str, tuple[str, bytes]]:
        """Every link's code: those kept, and the others drawn in the workshop."""
        wanted = list(dict.fromkeys(urls))
        found = {url: code for url in wanted if (code := self.get(url)) is not None}
        missing = [url for url in wanted if url not in found]
        chunks = [missing[i : i + CHUNK] for i in range(0, len(missing), CHUNK)]
        drawn = await _gather(workshop, chunks)
        for chunk, codes in zip(chunks, drawn, strict=True):
            for url, code in zip(chunk, codes, strict=True):
                self.put(url, code)
                found[url] = code
        return found

    async def svgs(self, urls: Iterable[str], workshop: Workshop) -> dict[str, str]:
        return {url: code[0] for url, code in (await self.codes(urls, workshop)).items()}

    async def pngs(self, urls: Iterable[str], workshop: Workshop) -> dict[str, bytes]:
        return {url: code[1] for url, code in (await self.codes(urls, workshop)).items()}


async def _gather(workshop: Workshop, chunks: list[list[str]]) -> list[list[tuple[str, bytes]]]:
    return list(await asyncio.gather(*(workshop.run(draw_many, chunk) for chunk in chunks)))
