"""Reps invited by email: a one-time link to choose their password.

Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0007"
down_revision = "0006"

ACCOUNT = sa.ForeignKey("rep_accounts.id", ondelete="CASCADE")  # an invite goes with its rep


def upgrade() -> None:
    op.create_table(
        "rep_invites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer, ACCOUNT, nullable=False, index=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rep_invites")
