"""quality review: the qa role, the recordings' audit log, reviews of calls, and the caller's survey score

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('agent', 'supervisor', 'trainer')"
ROLES = "role IN ('agent', 'supervisor', 'trainer', 'qa')"


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_constraint(op.f("ck_operators_role"), type_="check")
        batch.create_check_constraint("role", ROLES)
    op.create_table(
        "recording_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_audit")),
    )
    op.create_index(op.f("ix_recording_audit_at"), "recording_audit", ["at"])
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("checklist", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_reviews")),
    )
    op.create_index(op.f("ix_qa_reviews_call_id"), "qa_reviews", ["call_id"])
    with op.batch_alter_table("cdrs") as batch:
        batch.add_column(sa.Column("survey_score", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        batch.drop_column("survey_score")
    op.drop_index(op.f("ix_qa_reviews_call_id"), table_name="qa_reviews")
    op.drop_table("qa_reviews")
    op.drop_index(op.f("ix_recording_audit_at"), table_name="recording_audit")
    op.drop_table("recording_audit")
    op.execute("DELETE FROM operators WHERE role = 'qa'")
    with op.batch_alter_table("operators") as batch:
        batch.drop_constraint(op.f("ck_operators_role"), type_="check")
        batch.create_check_constraint("role", ROLES_BEFORE)
