"""a long step is shown as several pages, each saved on its own

A draft saved before this release saved each of these steps whole, on one page: its
later pages count as saved too, so the patient picks up where they left off.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: The number of pages of each step shown as several, as this release made them.
PAGES = {'pain_history': 2, 'symptoms': 2, 'treatments': 4, 'medical': 2, 'mood': 4,
         'substances': 4}

submission = sa.table('submission', sa.column('id', sa.Integer),
                      sa.column('completed_steps', sa.JSON),
                      sa.column('submitted_at', sa.DateTime))


def upgrade():
    bind = op.get_bind()
    drafts = bind.execute(sa.select(submission.c.id, submission.c.completed_steps)
                          .where(submission.c.submitted_at.is_(None))).all()
    for draft_id, saved in drafts:
        pages = [*saved, *(f'{slug}/{n}' for slug in saved if slug in PAGES
                           for n in range(2, PAGES[slug] + 1) if f'{slug}/{n}' not in saved)]
        if pages != saved:
            bind.execute(submission.update().where(submission.c.id == draft_id)
                         .values(completed_steps=pages))


def downgrade():
    bind = op.get_bind()
    drafts = bind.execute(sa.select(submission.c.id, submission.c.completed_steps)
                          .where(submission.c.submitted_at.is_(None))).all()
    for draft_id, saved in drafts:
        bind.execute(submission.update().where(submission.c.id == draft_id)
                     .values(completed_steps=[key for key in saved if '/' not in key]))
