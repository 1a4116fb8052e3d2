"""texter_blocks: adults block a texter by their key, with a reason and an expiry

Revision ID: 0018_blocklist
Revises: 0017_media_files
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0018_blocklist'
down_revision = '0017_media_files'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'texter_blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('texter_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.Column('last_reply_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['texter_id'], ['texters.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_texter_blocks_unlifted', 'texter_blocks', ['texter_id'], unique=True,
                    sqlite_where=sa.text('lifted_at IS NULL'), postgresql_where=sa.text('lifted_at IS NULL'))
    op.create_index('ix_texter_blocks_created', 'texter_blocks', ['created_at'])


def downgrade():
    op.drop_index('ix_texter_blocks_created', table_name='texter_blocks')
    op.drop_index('uq_texter_blocks_unlifted', table_name='texter_blocks')
    op.drop_table('texter_blocks')
