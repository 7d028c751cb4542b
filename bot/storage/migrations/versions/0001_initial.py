"""Leads, their answers, consent records and the erasure audit.

Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("email_free_mail", sa.Boolean),
        sa.Column("role", sa.String(200)),
        sa.Column("seniority", sa.String(20)),
        sa.Column("company", sa.String(200)),
        sa.Column("company_size", sa.Integer),
        sa.Column("budget_usd", sa.Integer),
        sa.Column("timeline_months", sa.Integer),
        sa.Column("consent_at", UTCDateTime, nullable=False),
        sa.Column("consent_version", sa.String(40), nullable=False),
        sa.Column("nurture_consent", sa.Boolean, nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("tier", sa.String(40)),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("meeting_start", UTCDateTime),
        sa.Column("rep_email", sa.String(320)),
        sa.Column("source", sa.JSON),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("needs_human", sa.Boolean, nullable=False),
        sa.Column("handoff_requested_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_leads_conversation_id", "leads", ["conversation_id"], unique=True)
    op.create_table(
        "lead_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "lead_id", sa.Integer, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("slot", sa.String(40), nullable=False),
        sa.Column("raw_text", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("corrections", sa.Integer, nullable=False),
        sa.Column("answered_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("lead_id", "slot", name="uq_lead_answers_lead_slot"),
    )
    op.create_index("ix_lead_answers_lead_id", "lead_answers", ["lead_id"])
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("text_version", sa.String(40), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_consent_records_conversation_id", "consent_records", ["conversation_id"])
    op.create_table(
        "erasure_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("erased_at", UTCDateTime, nullable=False),
        sa.Column("leads_erased", sa.Integer, nullable=False),
        sa.Column("consent_records_erased", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erasure_audit")
    op.drop_index("ix_consent_records_conversation_id", table_name="consent_records")
    op.drop_table("consent_records")
    op.drop_index("ix_lead_answers_lead_id", table_name="lead_answers")
    op.drop_table("lead_answers")
    op.drop_index("ix_leads_conversation_id", table_name="leads")
    op.drop_table("leads")
