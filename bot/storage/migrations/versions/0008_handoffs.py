"""Handoffs to a person: the queue reps see, and the messages the widget long-polls for.

Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("rep_email", sa.String(320)),
        sa.Column("taken_by", sa.String(320)),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("deadline_at", UTCDateTime),
        sa.Column("taken_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("form_interrupted", sa.Boolean, nullable=False),
        sa.Column("missed_reason", sa.String(20)),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_state", "handoffs", ["state"])
    op.create_table(
        "handoff_pushes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("message", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_handoff_pushes_conversation_id", "handoff_pushes", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_pushes_conversation_id", table_name="handoff_pushes")
    op.drop_table("handoff_pushes")
    op.drop_index("ix_handoffs_state", table_name="handoffs")
    op.drop_index("ix_handoffs_conversation_id", table_name="handoffs")
    op.drop_table("handoffs")
