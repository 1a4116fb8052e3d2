"""delivery_receipts: each (twilio_sid, status) once (retried callbacks added rows without end)

Revision ID: 0011_receipts_once
Revises: 0010_message_media
Create Date: 2026-12-03 14:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_receipts_once'
down_revision = '0010_message_media'
branch_labels = None
depends_on = None


def upgrade():
    # Keep the first of each (sid, status); the later copies are Twilio's retries.
    op.execute("DELETE FROM delivery_receipts WHERE id NOT IN "
               "(SELECT MIN(id) FROM delivery_receipts GROUP BY twilio_sid, status)")
    op.drop_index('ix_delivery_receipts_sid', table_name='delivery_receipts')
    op.create_index('uq_delivery_receipts_sid_status', 'delivery_receipts', ['twilio_sid', 'status'], unique=True)


def downgrade():
    op.drop_index('uq_delivery_receipts_sid_status', table_name='delivery_receipts')
    op.create_index('ix_delivery_receipts_sid', 'delivery_receipts', ['twilio_sid'], unique=False)
