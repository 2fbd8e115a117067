"""draft sessions and resume links

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

submission = sa.table(
    'submission',
    sa.column('id', sa.Integer()),
    sa.column('submitted_at', sa.DateTime(timezone=True)),
    sa.column('resume_token_hash', sa.String(length=64)),
    sa.column('resume_expires_at', sa.DateTime(timezone=True)),
)


def alter_submission(changes):
    """Change submission's columns, on SQLite by rebuilding the table.

    SQLite drops a UNIQUE column only by rebuilding its table, and the foreign keys it
    enforces in this transaction refuse to drop the old table while submission_event rows
    point at it: those rows wait in a temporary table meanwhile.
    """
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('CREATE TEMPORARY TABLE waiting_event AS SELECT * FROM submission_event')
        op.execute('DELETE FROM submission_event')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        changes(batch_op)
    if sqlite:
        op.execute('INSERT INTO submission_event SELECT * FROM waiting_event')
        op.execute('DROP TABLE waiting_event')


def create_resume_link():
    table = op.create_table('resume_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('resume_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resume_link_submission_id'), ['submission_id'], unique=False)
    return table


def upgrade():
    # A draft's one link becomes its first resume link; a sent draft's opens nothing.
    links = [
        {'submission_id': row.id, 'token_hash': row.resume_token_hash,
         'expires_at': row.resume_expires_at}
        for row in op.get_bind().execute(sa.select(submission).where(
            submission.c.resume_token_hash.is_not(None),
            submission.c.resume_expires_at.is_not(None),
            submission.c.submitted_at.is_(None)))
    ]

    # No cookie from before holds a session nonce: those patients come back with their link.
    def changes(batch_op):
        batch_op.add_column(sa.Column('session_nonce', sa.String(length=43), nullable=True))
        batch_op.drop_column('resume_expires_at')
        batch_op.drop_column('resume_token_hash')

    alter_submission(changes)
    table = create_resume_link()
    if links:
        op.bulk_insert(table, links)


def downgrade():
    resume_link = sa.table(
        'resume_link',
        sa.column('id', sa.Integer()),
        sa.column('submission_id', sa.Integer()),
        sa.column('token_hash', sa.String(length=64)),
        sa.column('expires_at', sa.DateTime(timezone=True)),
    )
    # Each draft keeps its newest link; its others stop working.
    newest = {
        row.submission_id: row
        for row in op.get_bind().execute(sa.select(resume_link).order_by(resume_link.c.id))
    }
    with op.batch_alter_table('resume_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resume_link_submission_id'))

    op.drop_table('resume_link')

    def changes(batch_op):
        batch_op.add_column(sa.Column('resume_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('resume_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('submission_resume_token_hash_key', ['resume_token_hash'])
        batch_op.drop_column('session_nonce')

    alter_submission(changes)

    for submission_id, link in newest.items():
        op.execute(submission.update().where(submission.c.id == submission_id).values(
            resume_token_hash=link.token_hash, resume_expires_at=link.expires_at))
