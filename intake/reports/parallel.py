"""Many PDFs drawn on every core. Each summary is built in this process (it reads the
database); its pages are drawn in worker processes, a few at a time, so memory stays
flat however many are exported, and the PDFs come back in the order they were asked for.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from intake.reports.pdf import render_pdf
from intake.reports.summary import Summary

Name = TypeVar("Name")
#: PDFs in flight per process: enough to keep each busy, few enough to keep memory flat.
AHEAD = 2


def processes(config: Mapping[str, Any]) -> int:
    """EXPORT_PDF_PROCESSES, where 0 is one per core."""
    return config["EXPORT_PDF_PROCESSES"] or os.cpu_count() or 1


def rendered(summaries: Iterable[tuple[Name, Summary]], fonts: Path,
             workers: int) -> Iterator[tuple[Name, bytes]]:
    """Each (name, summary) drawn as a PDF, in order: on ``workers`` processes, or in this
    one when that is 1. The workers start from a fresh server process (forkserver), not
    from this one, whose other threads may hold locks a fork would copy."""
    if workers <= 1:
        for name, summary in summaries:
            yield name, render_pdf(summary, fonts)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["intake.reports.pdf"])
    pool = ProcessPoolExecutor(workers, mp_context=context)
    waiting: deque[tuple[Name, Future[bytes]]] = deque()
    try:
        for name, summary in summaries:
            waiting.append((name, pool.submit(render_pdf, summary, fonts)))
            if len(waiting) >= workers * AHEAD:
                first, drawing = waiting.popleft()
                yield first, drawing.result()
        while waiting:
            first, drawing = waiting.popleft()
            yield first, drawing.result()
    finally:  # a stream stopped early leaves nothing drawing
        pool.shutdown(wait=True, cancel_futures=True)
