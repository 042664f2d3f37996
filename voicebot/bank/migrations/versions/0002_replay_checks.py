"""replay checks: operations.fingerprint, service_requests.caller

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caller", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_service_requests_caller"), ["caller"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_requests_caller"))
        batch_op.drop_column("caller")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
