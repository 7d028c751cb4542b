"""Scoring breakdown, meetings, round-robin routing, the outbox and nurture sequences.

Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("score_breakdown", sa.JSON))
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("rep_email", sa.String(320), nullable=False),
        sa.Column("start_utc", UTCDateTime, nullable=False),
        sa.Column("end_utc", UTCDateTime, nullable=False),
        sa.Column("visitor_tz", sa.String(64)),
        sa.Column("ics_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("rep_email", "start_utc", name="uq_meetings_rep_start"),
        sa.UniqueConstraint("ics_token", name="uq_meetings_ics_token"),
    )
    op.create_index("ix_meetings_conversation_id", "meetings", ["conversation_id"])
    op.create_table(
        "routing_cursors",
        sa.Column("segment", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(255)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_index("ix_outbox_conversation_id", "outbox", ["conversation_id"])
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
    op.create_table(
        "nurture_enrollments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("sequence", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stop_reason", sa.String(40)),
        sa.Column("unsubscribe_token", sa.String(64), nullable=False),
        sa.Column("next_step", sa.Integer, nullable=False),
        sa.Column("next_due_at", UTCDateTime),
        sa.Column("enrolled_at", UTCDateTime, nullable=False),
        sa.Column("stopped_at", UTCDateTime),
        sa.UniqueConstraint("unsubscribe_token", name="uq_nurture_enrollments_token"),
    )
    op.create_index(
        "ix_nurture_enrollments_conversation_id",
        "nurture_enrollments",
        ["conversation_id"],
        unique=True,
    )
    op.create_index("ix_nurture_enrollments_next_due_at", "nurture_enrollments", ["next_due_at"])
    op.create_table(
        "nurture_sends",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "enrollment_id",
            sa.Integer,
            sa.ForeignKey("nurture_enrollments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("queued_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("enrollment_id", "step", name="uq_nurture_sends_enrollment_step"),
    )
    op.create_index("ix_nurture_sends_enrollment_id", "nurture_sends", ["enrollment_id"])


def downgrade() -> None:
    op.drop_index("ix_nurture_sends_enrollment_id", table_name="nurture_sends")
    op.drop_table("nurture_sends")
    op.drop_index("ix_nurture_enrollments_next_due_at", table_name="nurture_enrollments")
    op.drop_index("ix_nurture_enrollments_conversation_id", table_name="nurture_enrollments")
    op.drop_table("nurture_enrollments")
    op.drop_index("ix_outbox_next_attempt_at", table_name="outbox")
    op.drop_index("ix_outbox_conversation_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("routing_cursors")
    op.drop_index("ix_meetings_conversation_id", table_name="meetings")
    op.drop_table("meetings")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("score_breakdown")
