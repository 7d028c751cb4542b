"""Migrations build the same schema as the models, and can go down and up again."""

from __future__ import annotations

from sqlalchemy import inspect

from bot.storage.engine import make_engine
from bot.storage.migrate import downgrade, upgrade
from bot.storage.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
    engine.dispose()


def test_downgrade_to_nothing_and_back(database_url: str) -> None:
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    assert {"leads", "lead_answers", "consent_records", "erasure_audit"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
