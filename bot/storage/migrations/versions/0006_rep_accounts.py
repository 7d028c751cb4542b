"""Reps sign in: accounts (email + argon2 hash) and server-side sessions.

Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "rep_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("password_set_at", UTCDateTime),
        sa.Column("last_login_at", UTCDateTime),
    )
    op.create_table(
        "rep_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("rep_accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("rep_sessions")
    op.drop_table("rep_accounts")
