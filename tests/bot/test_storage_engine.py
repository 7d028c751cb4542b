"""bot/storage/engine.py: a PostgreSQL engine keeps a connection per database thread."""

from __future__ import annotations

from bot.storage.engine import DATABASE_THREADS, make_engine


def test_postgresql_pool_keeps_a_connection_per_database_thread() -> None:
    # No connection is made here: create_engine connects on first use.
    engine = make_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    assert engine.pool.size() == DATABASE_THREADS >= 5
    assert engine.pool._pre_ping  # a connection that died (a PostgreSQL restart) is replaced
