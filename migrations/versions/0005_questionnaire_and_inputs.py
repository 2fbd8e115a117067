"""the questionnaire a submission answers, and its inputs from outside the answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('submission', sa.Column('questionnaire', sa.String(length=40),
                                          server_default='intake', nullable=False))
    op.add_column('submission', sa.Column('inputs', sa.JSON(), server_default='{}',
                                          nullable=False))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('inputs')
        batch_op.drop_column('questionnaire')
