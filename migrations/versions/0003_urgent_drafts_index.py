"""urgent drafts index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 04:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_urgent_drafts',
                              ['urgent', 'submitted_at', 'started_at', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_submission_urgent'))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_urgent'), ['urgent'], unique=False)
        batch_op.drop_index('ix_submission_urgent_drafts')
