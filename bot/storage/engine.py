"""Database engine and sessions: made by factories, never at import time.

`DATABASE_URL` picks the database: SQLite by default, PostgreSQL in production, same code.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

# Threads that may hold a connection at once: asyncio's default executor (what
# `asyncio.to_thread` uses) has min(32, cpu + 4).
DATABASE_THREADS = min(32, (os.cpu_count() or 1) + 4)


def make_engine(database_url: str) -> Engine:
    """Create an engine for `database_url`, creating the SQLite file's folder if needed."""
    url = make_url(database_url)
    # hide_parameters: a failed statement's error (and its log line) never shows the values,
    # which are visitors' answers and emails.
    kwargs: dict = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # The action server answers from several threads; each unit of work is short.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
    else:
        # Keep a connection per thread that runs database work (`asyncio.to_thread`'s default
        # pool: cpu + 4 threads). With SQLAlchemy's default of 5, the 6th busy thread's
        # connection was opened and closed again for each unit of work under load: a new
        # PostgreSQL backend (a fork and a login) per answer.
        kwargs["pool_size"] = DATABASE_THREADS
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        # WAL lets readers (the CLI export) run while the action server writes;
        # foreign keys make erasure cascade to answers as it does on PostgreSQL;
        # secure_delete overwrites what is deleted, so an erased email isn't left in free pages.
        on_connect = sqlite_pragmas("journal_mode=WAL", "foreign_keys=ON", "secure_delete=ON")
        event.listen(engine, "connect", on_connect)
    return engine


def sqlite_pragmas(*pragmas: str) -> Callable[[Any, Any], None]:
    """A "connect" hook that sets these PRAGMAs on every new SQLite connection."""

    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return on_connect


def checkpoint(engine: Engine) -> None:
    """SQLite: fold the write-ahead log into the database file and empty it, so the old
    versions of erased rows it still holds are gone too (no-op elsewhere; best effort)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def unit_of_work(session_factory: sessionmaker) -> Iterator[Session]:
    """One short transaction: commit on success, roll back on any error."""
    session: Session = session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def by_token(session: Session, token_column: Any, token: str) -> Any:
    """The row whose secret link token (a unique column such as `Meeting.ics_token`) is
    `token`, or None."""
    return session.execute(
        select(token_column.class_).where(token_column == token)
    ).scalar_one_or_none()


def drop_databases(admin_url: str, names: Iterable[str]) -> None:
    """Drop PostgreSQL databases made for a test or a benchmark, if they exist. Sessions still
    open on them (a server that was stopped roughly, a pool not yet disposed) are ended first:
    PostgreSQL refuses to drop a database somebody is connected to."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()
