"""Custom `scrapy <command>`s (COMMANDS_MODULE): crawl (preflight), extract, reparse, export,
portals, summary, runs."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from scrapy.exceptions import UsageError

from gxcrawl.config import CrawlConfig
from gxcrawl.store.db import Database, StoreUnavailable


def open_database(settings: Any, *, must_exist: bool = True) -> Database:
    """The configured database, or a one-line usage error saying why it cannot be opened."""
    try:
        url = CrawlConfig.from_settings(settings).database_url
        return Database(url, must_exist=must_exist)
    except StoreUnavailable as exc:
        raise UsageError(str(exc), print_help=False) from None


def writable_dir(path: str | Path, what: str) -> Path:
    """A directory the command will write into, created when missing; a one-line usage error
    naming `what` (the option) when it cannot be created or written."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.is_file()), None)
        cause = f"{blocker} is a file" if blocker is not None else exc.strerror
        raise UsageError(f"{what}: cannot create {folder}: {cause}", print_help=False) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: {folder} is not writable", print_help=False)
    return folder


def writable_file(path: str | Path, what: str) -> Path:
    """A file the command will write: its directory exists (created) and is writable, and the
    path is not a directory."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{what}: {target} is a directory", print_help=False)
    writable_dir(target.parent, what)
    return target


_Run = TypeVar("_Run", bound=Callable[..., None])


def quiet_broken_pipe(run: _Run) -> _Run:
    """For a command's `run`: output piped into `head` (or any reader that stops early) ends
    quietly, not with a BrokenPipeError traceback; the rest of the output goes nowhere."""

    @functools.wraps(run)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            run(*args, **kwargs)
            sys.stdout.flush()  # a pipe closed after the last print breaks here, not at exit
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is silent

    return wrapper  # type: ignore[return-value]
