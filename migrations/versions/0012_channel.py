"""conversations.channel: sms or whatsapp

Revision ID: 0012_channel
Revises: 0011_receipts_once
Create Date: 2026-12-03 14:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_channel'
down_revision = '0011_receipts_once'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=12), server_default='sms', nullable=False))


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('channel')
