"""message_media: pictures and files that came with a texter's message (Twilio's MediaUrl<n>)

Revision ID: 0010_message_media
Revises: 0009_replaced_chars
Create Date: 2026-12-03 14:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_message_media'
down_revision = '0009_replaced_chars'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_media_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_media'))
    )
    op.create_index('ix_message_media_message', 'message_media', ['message_id', 'position'], unique=False)


def downgrade():
    op.drop_index('ix_message_media_message', table_name='message_media')
    op.drop_table('message_media')
