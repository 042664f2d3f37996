"""handover contexts: what the agent's screen pop shows of a caller being put through

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover_contexts",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_handover_contexts")),
    )
    op.create_index(op.f("ix_handover_contexts_created_at"), "handover_contexts", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handover_contexts_created_at"), table_name="handover_contexts")
    op.drop_table("handover_contexts")
