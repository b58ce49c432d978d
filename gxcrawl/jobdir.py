"""JOBDIR pauses and resumes ONE run; a run that ends normally leaves nothing behind.

Scrapy keeps the duplicate filter (`requests.seen`) and the pending requests
(`requests.queue/`) in JOBDIR so that a paused run (Ctrl-C) resumes where it stopped. A run that
finished keeps them too, and the next scheduled run with the same JOBDIR would then filter its
start URLs as already seen and fetch nothing (`dupefilter/filtered`). So when a run ends
normally this extension clears that state; an interrupted run keeps it for its resume.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from scrapy import signals

from gxcrawl.extensions import run_status
from gxcrawl.vocab import RunStatus

__all__ = ["JOBDIR_STATE", "JobDirReset", "clear_job_state"]

log = logging.getLogger(__name__)

# What Scrapy's scheduler and duplicate filter keep in JOBDIR between the runs of one job.
JOBDIR_STATE = ("requests.seen", "requests.queue")


def clear_job_state(jobdir: str | Path) -> list[str]:
    """Remove the scheduler and duplicate-filter state from a job directory; the names removed."""
    removed = []
    for name in JOBDIR_STATE:
        path = Path(jobdir, name)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


class JobDirReset:
    """On a normal end (spider_closed comes after the scheduler closed its files), clear JOBDIR."""

    def __init__(self, jobdir: str) -> None:
        self.jobdir = jobdir

    @classmethod
    def from_crawler(cls, crawler: Any) -> JobDirReset:
        ext = cls(crawler.settings.get("JOBDIR") or "")
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        if not self.jobdir or run_status(reason) != RunStatus.FINISHED:
            return  # no job, or a paused/failed run: keep the state for its resume
        try:
            removed = clear_job_state(self.jobdir)
        except OSError as exc:  # the next run would skip work: say so loudly
            log.error("cannot clear the finished job's state in %s: %s", self.jobdir, exc)
            return
        if removed:
            log.info("run finished: cleared %s from JOBDIR %s", ", ".join(removed), self.jobdir)
