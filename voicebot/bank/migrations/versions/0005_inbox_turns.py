"""inbox turns: caller turns the NLU was unsure about, for the trainer's inbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ranking", sa.Text(), nullable=False),
        sa.Column("next_move", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("labelled_by", sa.String(length=64), nullable=True),
        sa.Column("labelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('new', 'labelled', 'out_of_scope', 'dismissed')",
                           name=op.f("ck_inbox_turns_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_turns")),
    )
    op.create_index(op.f("ix_inbox_turns_created_at"), "inbox_turns", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_turns_created_at"), table_name="inbox_turns")
    op.drop_table("inbox_turns")
