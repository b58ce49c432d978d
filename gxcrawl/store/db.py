"""Engines, sessions and schema upgrades. The schema is created only by Alembic migrations."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from gxcrawl.config import DEFAULT_DATABASE_URL

# Seconds a SQLite writer waits for another's lock (a reparse while a crawl writes) before failing.
SQLITE_BUSY_TIMEOUT = 30
# Beside a SQLite file: held while its schema is upgraded, so processes started at once on a new
# database migrate it one after another (the second finds it at head).
SQLITE_MIGRATE_LOCK_SUFFIX = ".migrate-lock"
# PostgreSQL: a transaction-level advisory lock keyed by this name and the schema migrated.
PG_MIGRATE_LOCK = "gxcrawl-migrate:"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"  # a checkout (editable install, tests)
PACKAGED_MIGRATIONS = "_migrations"  # inside the gxcrawl package of a wheel or egg (setup.py)
# Any number for pg_advisory_xact_lock, fixed so every gxcrawl process takes the same lock:
# workers starting together on a new database migrate it one after the other.


def database_url(explicit: str | None = None) -> str:
    """The URL to use: an explicit value, else GXCRAWL_DATABASE_URL, else data/gxcrawl.db."""
    return explicit or os.environ.get("GXCRAWL_DATABASE_URL") or DEFAULT_DATABASE_URL


# Backends the store is built and tested for; `postgres://` (Heroku-style) means postgresql.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_BACKEND_ALIASES = {"postgres": "postgresql"}


def normalise_url(url: str) -> str:
    """The URL with a dialect alias spelled as SQLAlchemy knows it (`postgres://…` →
    `postgresql://…`); StoreUnavailable naming the supported dialects for any other backend."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailable(f"not a database URL: {url!r} ({exc})") from None
    backend, _, driver = parsed.drivername.partition("+")
    backend = _BACKEND_ALIASES.get(backend, backend)
    if backend not in SUPPORTED_BACKENDS:
        raise StoreUnavailable(
            f"unsupported database {backend!r} in {redacted(url)}: gxcrawl stores into "
            "sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    name = f"{backend}+{driver}" if driver else backend
    return (
        url
        if name == parsed.drivername
        else parsed.set(drivername=name).render_as_string(hide_password=False)
    )


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))  # psycopg 3, not psycopg2
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers (Datasette, pandas) while a crawl writes
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def migrations_dir() -> Path:
    """The Alembic scripts: shipped in the package, else the checkout's `migrations/`."""
    packaged = resources.files("gxcrawl").joinpath(PACKAGED_MIGRATIONS)
    if packaged.joinpath("env.py").is_file():
        if isinstance(packaged, Path):
            return packaged
        return _extracted(packaged)  # a zipped egg (Scrapyd): Alembic needs real files
    if (MIGRATIONS_DIR / "env.py").is_file():
        return MIGRATIONS_DIR
    raise RuntimeError(
        f"Alembic migrations not found: neither gxcrawl/{PACKAGED_MIGRATIONS} in the installed "
        f"package nor {MIGRATIONS_DIR} (install with `pip install .`, not by copying files)"
    )


_EXTRACTED: dict[str, Path] = {}  # one copy per process


def _extracted(tree: Traversable) -> Path:
    key = str(tree)
    if key not in _EXTRACTED:
        target = Path(tempfile.mkdtemp(prefix="gxcrawl-migrations-"))
        atexit.register(shutil.rmtree, target, True)
        _copy_tree(tree, target)
        _EXTRACTED[key] = target
    return _EXTRACTED[key]


def _copy_tree(tree: Traversable, target: Path) -> None:
    for entry in tree.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir()
            _copy_tree(entry, target / entry.name)
        elif not entry.name.endswith(".pyc"):
            (target / entry.name).write_bytes(entry.read_bytes())


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` by running the Alembic migrations.

    Safe when several processes start at once on a new database: each migrates under a lock
    (a file lock for SQLite, an advisory lock for PostgreSQL), so the later ones find it done.
    """
    engine = make_engine(url)
    try:
        with _sqlite_migrate_lock(url), engine.begin() as conn:
            _pg_migrate_lock(conn)
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


@contextmanager
def _sqlite_migrate_lock(url: str) -> Iterator[None]:
    """An exclusive lock on a file beside a SQLite database, held while it is migrated."""
    parsed = make_url(url)
    path = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        yield
        return
    lock_path = Path(path + SQLITE_MIGRATE_LOCK_SUFFIX)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, even on a crash
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pg_migrate_lock(conn: Connection) -> None:
    """Wait for other migrations of the same PostgreSQL schema; released at commit."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key || current_schema()))"),
        {"key": PG_MIGRATE_LOCK},
    )


class StoreUnavailable(RuntimeError):
    """The database cannot be opened (unreachable, missing, bad URL); the message says why."""


def redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


class Database:
    """An engine plus a session factory; `transaction()` is the unit of work.

    `must_exist` is for commands that only read: they should not create an empty SQLite file
    where the operator mistyped a path.
    """

    def __init__(self, url: str, *, migrate: bool = True, must_exist: bool = False) -> None:
        url = normalise_url(url)
        self.url = url
        parsed = make_url(url)
        if must_exist and parsed.get_backend_name() == "sqlite":
            path = parsed.database or ""
            if path and path != ":memory:" and not Path(path).exists():
                raise StoreUnavailable(
                    f"no database at {path} (GXCRAWL_DATABASE_URL={redacted(url)}): "
                    "run a crawl or `make migrate` first"
                )
        try:
            if migrate:
                upgrade(url)
            self.engine = make_engine(url)
        except (DBAPIError, NoSuchModuleError) as exc:
            reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            raise StoreUnavailable(f"cannot open the database {redacted(url)}: {reason}") from None
        except OSError as exc:  # the SQLite file's folder cannot be created or written
            where = Path(exc.filename or parsed.database or "")
            blocker = next((p for p in (where, *where.parents) if p.is_file()), None)
            cause = f"{blocker} is a file" if blocker else f"{exc.strerror}: {where}"
            raise StoreUnavailable(f"cannot open the database {redacted(url)}: {cause}") from None
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
