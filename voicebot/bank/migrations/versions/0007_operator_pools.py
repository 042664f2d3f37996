"""operator pools: the agent pools an operator may take calls in ('*': every pool)

Operators from before keep every pool, as they had; new agents are given theirs by
``voicebot users add --pools`` (or ``users pools``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("pools", sa.String(length=200), nullable=False, server_default="*"))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("pools")
