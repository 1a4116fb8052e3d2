"""conversations.waiting_since: when the current wait began (the wait alert counts from it)

Revision ID: 0019_waiting_since
Revises: 0018_blocklist
Create Date: 2026-12-03 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_waiting_since'
down_revision = '0018_blocklist'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
    # Every wait so far began when the conversation was queued.
    op.execute("UPDATE conversations SET waiting_since = queued_at")
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('waiting_since', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('waiting_since')
