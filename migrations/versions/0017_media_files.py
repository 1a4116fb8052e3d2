"""message_media: the fetch's state (exactly once), where the file is kept, and the adult who looked first

Revision ID: 0017_media_files
Revises: 0016_spool_erasures
Create Date: 2026-12-03 18:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_media_files'
down_revision = '0016_spool_erasures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message_media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('storage_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('preview_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('fetch_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('removed_from_twilio_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('error', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('adult_viewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('adult_viewed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_message_media_adult_viewed_by_id_users'), 'users',
                                    ['adult_viewed_by_id'], ['id'])
        batch_op.create_index('ix_message_media_state', ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('message_media', schema=None) as batch_op:
        batch_op.drop_index('ix_message_media_state')
        batch_op.drop_constraint(batch_op.f('fk_message_media_adult_viewed_by_id_users'), type_='foreignkey')
        for column in ('adult_viewed_by_id', 'adult_viewed_at', 'error', 'removed_from_twilio_at', 'fetched_at',
                       'fetch_started_at', 'attempts', 'preview_key', 'storage_key', 'size', 'state'):
            batch_op.drop_column(column)
