"""measures as the patient typed them in US units

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('submission', sa.Column('typed', sa.JSON(), server_default='{}',
                                          nullable=False))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('typed')
