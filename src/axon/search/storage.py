"""Where a study lives, and the lock that keeps its trial count exact.

Storages (the ``storage`` argument, ``axon evolve --storage``):

==================================  ==========================================================
(none)                              ``sqlite:///RUN/study.db``: an SQLite file in the run folder
``sqlite:///PATH``                  an SQLite file (workers on one machine)
``postgresql://USER:PW@HOST/DB``    a PostgreSQL database (workers on many machines), through
                                    SQLAlchemy and psycopg 3
``mysql+pymysql://...`` etc.        any database SQLAlchemy reaches
``journal:PATH``                    Optuna's JournalStorage: an append-only log file, for a
                                    shared file system (NFS) where no database server runs
==================================  ==========================================================

The SQL storages record a heartbeat for each running trial; a trial whose worker stopped
beating (killed, machine lost) is failed after three heartbeats and queued again with the same
parameters (Optuna's RetryHeartbeatStaleTrialCallback), so nothing but that trial's partial
training is lost. Optuna's journal storage has no heartbeat: a worker killed there leaves its
trial RUNNING.

SQLite files are switched to write-ahead logging with ``synchronous=NORMAL``, which several
processes on one machine may share and which commits without an fsync per write (a crash of
the machine, not of a process, may lose the last commits).

:class:`StudyLock` serialises the moment a worker decides to start a trial and creates it, so
that workers together run exactly the budget: a file lock next to an SQLite or journal file,
PostgreSQL's advisory lock for a PostgreSQL study, a file lock in the run folder otherwise
(exact among the workers of one machine). The lock is released as soon as the trial exists;
trials train in parallel.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

from axon.search._optuna import require_optuna

#: The SQLite file of a run folder's default storage.
DEFAULT_DB = "study.db"
_FORMS = ("sqlite:///PATH, postgresql://USER:PASSWORD@HOST:PORT/DATABASE, another SQLAlchemy URL, "
          "or journal:PATH")


def resolve_url(storage: str | None, run_dir: Path) -> str:
    """The storage URL for ``storage`` (None: the run folder's SQLite file), normalised.

    ``postgresql://`` gets the psycopg 3 driver when psycopg2 is not installed; relative
    SQLite and journal paths are made absolute. Raises ValueError for a string that is no URL.
    """
    if storage is None:
        return f"sqlite:///{(Path(run_dir) / DEFAULT_DB).resolve()}"
    if not isinstance(storage, str) or not storage.strip():
        raise ValueError(f"storage must be a URL such as {_FORMS}; got {storage!r}")
    storage = storage.strip()
    if storage.startswith("journal:"):
        path = storage[len("journal:"):].removeprefix("//")
        if not path:
            raise ValueError("storage journal: needs a file, e.g. journal:/shared/study.log")
        return f"journal:{Path(path).expanduser().resolve()}"
    if "://" not in storage:
        raise ValueError(f"storage {storage!r} is not a URL; write {_FORMS}")
    import sqlalchemy.engine
    import sqlalchemy.exc

    try:
        url = sqlalchemy.engine.make_url(storage)
    except sqlalchemy.exc.ArgumentError as e:
        raise ValueError(f"storage {_hide(storage)!r} is not a valid URL ({e}); write {_FORMS}") from None
    if url.drivername == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None \
            and importlib.util.find_spec("psycopg") is not None:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _hide(url: str) -> str:
    try:
        import sqlalchemy.engine
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing to hide
        return url


def display_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for run.json, the report and messages)."""
    return url if url.startswith("journal:") else _hide(url)


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite:///`` URL (None for other storages and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    import sqlalchemy.engine

    db = sqlalchemy.engine.make_url(url).database
    return Path(db) if db and db != ":memory:" else None


def open_storage(url: str, heartbeat: int = 5) -> Any:
    """An Optuna storage for ``url`` (from :func:`resolve_url`), heartbeat and retry included.

    Raises ValueError with the fix when the database cannot be reached or its driver is not
    installed.
    """
    optuna = require_optuna()
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal:"):])
        if not path.parent.is_dir():
            raise ValueError(f"storage journal:{path}: the folder {path.parent} does not exist")
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    import sqlalchemy.exc

    engine_kwargs: dict[str, Any] = {}
    db = sqlite_path(url)
    if db is not None:
        if not db.parent.is_dir():
            raise ValueError(f"storage {url}: the folder {db.parent} does not exist")
        with contextlib.closing(sqlite3.connect(db, timeout=60)) as conn:  # WAL stays set in the file
            conn.execute("PRAGMA journal_mode=WAL")
        engine_kwargs["connect_args"] = {"timeout": 60}  # wait for another worker's write, not fail
    else:
        engine_kwargs["pool_pre_ping"] = True
    for attempt in range(5):
        try:
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat, grace_period=3 * heartbeat,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2))
            break
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Two workers that open a new database at the same instant both create Optuna's tables;
            # the slower one fails on a name the other just made. Once made, they are simply found.
            if attempt == 4:
                raise
            time.sleep(0.5)
        except ImportError as e:
            raise ValueError(f"storage {display_url(url)}: the database driver is not installed ({e}); for "
                             f"PostgreSQL: pip install 'psycopg[binary]' (part of the [search] extra)") from None
        except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError) as e:
            raise ValueError(f"storage {display_url(url)}: unknown kind of database ({e}); write {_FORMS}") from None
        except sqlalchemy.exc.SQLAlchemyError as e:
            reason = " ".join(str(getattr(e, "orig", None) or e).split())[:300]
            raise ValueError(f"storage {display_url(url)}: cannot open the database ({reason}); check the host, "
                             f"port, user, password and database name, and that the server is running") from None
    if db is not None:
        from sqlalchemy import event

        storage.engine.dispose()  # the pragma below then applies to every connection

        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        event.listen(storage.engine, "connect", _pragmas)
    return storage


def has_heartbeat(storage: Any) -> bool:
    """Whether ``storage`` fails the trials of dead workers (the SQL storages do, the journal not)."""
    return hasattr(storage, "get_heartbeat_interval") and storage.get_heartbeat_interval() is not None


class StudyLock:
    """A lock shared by the workers of one study; :meth:`acquire` blocks, :meth:`release` is
    idempotent (safe to call when not held). Released by the operating system or the database
    when the process holding it dies, so a killed worker never blocks the others."""

    def __init__(self, url: str, study: str, run_dir: Path) -> None:
        self._held = False
        self._conn: Any = None
        self._file: Any = None
        if url.startswith("postgresql"):
            import sqlalchemy

            engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool,
                                              isolation_level="AUTOCOMMIT")
            self._conn = engine.connect()
            self._key = zlib.crc32(f"axon-evolve:{study}".encode())  # a stable 32-bit key per study
            return
        from filelock import FileLock

        # Not "<file>.lock": Optuna's journal backend uses that name for its own lock.
        db = sqlite_path(url)
        if db is not None:
            path = db.with_name(db.name + ".axon-lock")
        elif url.startswith("journal:"):
            path = Path(url[len("journal:"):] + ".axon-lock")
        else:
            path = Path(run_dir) / ".study.axon-lock"
        self._file = FileLock(str(path))

    def acquire(self) -> None:
        """Wait for the lock and take it."""
        if self._held:
            return
        if self._conn is not None:
            from sqlalchemy import text
            self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self._key})
        else:
            self._file.acquire()
        self._held = True

    def release(self) -> None:
        """Give the lock back (nothing happens when it is not held)."""
        if not self._held:
            return
        self._held = False
        if self._conn is not None:
            from sqlalchemy import text
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        else:
            self._file.release()

    def close(self) -> None:
        """Release and close the database connection, if any."""
        self.release()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


__all__ = ["DEFAULT_DB", "StudyLock", "display_url", "has_heartbeat", "open_storage", "resolve_url", "sqlite_path"]
