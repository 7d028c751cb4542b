"""Reps' free/busy feeds, cancellable and reschedulable meetings, opaque lead ids for the CRM.

- calendar_sources / calendar_busy: the cached busy times of each rep's iCalendar feed.
- meetings: status, SEQUENCE, an opaque public id for the signed manage link, cancelled_at;
  the unique (rep, start) now holds among booked meetings only, so cancelling frees the time.
- leads.public_id: the id CRM events carry instead of the conversation id.

Create Date: 2026-12-01
"""

import secrets

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0005"
down_revision = "0003"

BOOKED = sa.text("status = 'booked'")


def _backfill(table: str) -> None:
    connection = op.get_bind()
    ids = connection.execute(sa.text(f"SELECT id FROM {table} WHERE public_id IS NULL")).all()
    for (row_id,) in ids:
        connection.execute(
            sa.text(f"UPDATE {table} SET public_id = :public_id WHERE id = :id"),
            {"public_id": secrets.token_hex(12), "id": row_id},
        )


def upgrade() -> None:
    op.create_table(
        "calendar_sources",
        sa.Column("rep_email", sa.String(320), primary_key=True),
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", UTCDateTime),
        sa.Column("next_refresh_at", UTCDateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("busy_count", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rep_email", sa.String(320), nullable=False),
        sa.Column("start_utc", UTCDateTime, nullable=False),
        sa.Column("end_utc", UTCDateTime, nullable=False),
    )
    op.create_index("ix_calendar_busy_rep_email", "calendar_busy", ["rep_email"])

    with op.batch_alter_table("meetings") as batch:
        batch.add_column(
            sa.Column("status", sa.String(20), nullable=False, server_default="booked")
        )
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("public_id", sa.String(32)))
        batch.add_column(sa.Column("cancelled_at", UTCDateTime))
        batch.drop_constraint("uq_meetings_rep_start", type_="unique")
    _backfill("meetings")
    with op.batch_alter_table("meetings") as batch:
        batch.alter_column("public_id", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_meetings_public_id", ["public_id"])
    op.create_index(
        "uq_meetings_rep_start_booked",
        "meetings",
        ["rep_email", "start_utc"],
        unique=True,
        postgresql_where=BOOKED,
        sqlite_where=BOOKED,
    )

    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("public_id", sa.String(32)))
    _backfill("leads")
    with op.batch_alter_table("leads") as batch:
        batch.create_unique_constraint("uq_leads_public_id", ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.drop_constraint("uq_leads_public_id", type_="unique")
        batch.drop_column("public_id")
    op.drop_index("uq_meetings_rep_start_booked", table_name="meetings")
    # Cancelled meetings would break the old unique (rep, start): they go.
    op.execute("DELETE FROM meetings WHERE status <> 'booked'")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_constraint("uq_meetings_public_id", type_="unique")
        batch.drop_column("cancelled_at")
        batch.drop_column("public_id")
        batch.drop_column("sequence")
        batch.drop_column("status")
        batch.create_unique_constraint("uq_meetings_rep_start", ["rep_email", "start_utc"])
    op.drop_index("ix_calendar_busy_rep_email", table_name="calendar_busy")
    op.drop_table("calendar_busy")
    op.drop_table("calendar_sources")
