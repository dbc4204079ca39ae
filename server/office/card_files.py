"""Invitation cards built in the background: the QR codes of a sheet and its DOCX.

A DOCX of a whole body (3,000 cards: hundreds of pages) takes longer than a browser
should wait, so it is a job: started by the first request, built in the workshop's
processes, and handed out to every request for the same sheet until the sheet changes
(:meth:`server.office.invitations.CardSheet.fingerprint`). One job per meeting and
selection (a group, or the whole body); a newer sheet replaces an older job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from server.office import invitations
from server.office.card_qr import QrCache
from server.office.invitations import CardSheet
from server.office.workshop import Workshop

MAX_JOBS = 32  # kept results (a few MB each at most)


@dataclass
class DocxJob:
    fingerprint: str
    cards: int
    task: asyncio.Task[bytes]
    started: float = field(default_factory=time.monotonic)

    @property
    def ready(self) -> bool:
        return self.task.done() and not self.task.cancelled() and self.task.exception() is None

    @property
    def failed(self) -> bool:
        return self.task.done() and (self.task.cancelled() or self.task.exception() is not None)

    def result(self) -> bytes:
        return self.task.result()


class CardFiles:
    """The office's card work: the QR cache, the workshop, the DOCX jobs."""

    def __init__(self, workshop: Workshop | None = None, qrs: QrCache | None = None) -> None:
        self.workshop = workshop or Workshop()
        self.qrs = qrs or QrCache()
        self.jobs: dict[tuple[int, str], DocxJob] = {}

    async def svgs(self, sheet: CardSheet) -> dict[int, str]:
        """Each card's QR code as inline SVG, by deputy id (drawn off the loop, kept)."""
        by_url = await self.qrs.svgs((card.url for card in sheet.cards), self.workshop)
        return {card.deputy_id: by_url[card.url] for card in sheet.cards}

    def docx(self, meeting_id: int, selection: str, sheet: CardSheet) -> DocxJob:
        """The job building this sheet's DOCX: the running or finished one if the sheet
        is unchanged (and it did not fail), else a new one."""
        key = (meeting_id, selection)
        fingerprint = sheet.fingerprint()
        job = self.jobs.get(key)
        if job is not None and job.fingerprint == fingerprint and not job.failed:
            return job
        if job is not None and not job.task.done():
            job.task.cancel()  # the sheet changed: nobody wants the old one
        task = asyncio.create_task(self._build(sheet))
        task.add_done_callback(_retrieve)
        job = DocxJob(fingerprint, len(sheet.cards), task)
        self.jobs.pop(key, None)
        self.jobs[key] = job
        while len(self.jobs) > MAX_JOBS:
            oldest = next(iter(self.jobs))
            self.jobs.pop(oldest).task.cancel()
        return job

    async def _build(self, sheet: CardSheet) -> bytes:
        pngs = await self.qrs.pngs((card.url for card in sheet.cards), self.workshop)
        return await self.workshop.run(invitations.cards_docx, sheet, pngs)

    async def close(self) -> None:
        for job in self.jobs.values():
            job.task.cancel()
        for job in self.jobs.values():
            with contextlib.suppress(BaseException):
                await job.task
        self.jobs.clear()
        self.workshop.close()


def _retrieve(task: asyncio.Task[bytes]) -> None:
    """A failed job is reported to whoever asks for it next, not as an unretrieved error."""
    if not task.cancelled():
        task.exception()
