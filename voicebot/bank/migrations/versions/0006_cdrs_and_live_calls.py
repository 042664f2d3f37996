"""cdrs and live calls: every finished call in the database as well as the CDR file, with
daily sums for reports; the calls in progress as their workers publish them, for the wallboard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cdrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("transfer_reason", sa.String(length=64), nullable=True),
        sa.Column("agent_answer_s", sa.Float(), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("call_id", "started_at", name=op.f("uq_cdrs_call_id")),
    )
    op.create_index(op.f("ix_cdrs_started_at"), "cdrs", ["started_at"])
    op.create_table(
        "live_calls",
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("waiting_since", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker", "call_id", name=op.f("pk_live_calls")),
    )
    op.create_index(op.f("ix_live_calls_updated_at"), "live_calls", ["updated_at"])
    op.create_table(
        "cdr_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("agent_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "region", "service", name=op.f("pk_cdr_daily")),
    )
    op.create_table(
        "pool_hourly",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pool", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "pool", "hour", name=op.f("pk_pool_hourly")),
    )


def downgrade() -> None:
    op.drop_table("pool_hourly")
    op.drop_table("cdr_daily")
    op.drop_index(op.f("ix_live_calls_updated_at"), table_name="live_calls")
    op.drop_table("live_calls")
    op.drop_index(op.f("ix_cdrs_started_at"), table_name="cdrs")
    op.drop_table("cdrs")
