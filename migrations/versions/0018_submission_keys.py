"""submission keys: the key of the form (or the API's Idempotency-Key) that saved each proposal

A proposal form carries a key made when it is shown; the proposal it saves keeps it, unique per author, so that
the same form sent again (a lost answer, a timeout, a server or database restart in between) finds the proposal
its first sending saved instead of saving a second one. Existing proposals have none (NULL: never equal). A column
added with ALTER and one index: the table is not rebuilt.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
    # A unique index rather than a table constraint: SQLite adds it without rebuilding the table.
    op.create_index('uq_suggestions_author_submission_key', 'suggestions', ['author_id', 'submission_key'],
                    unique=True)


def downgrade():
    op.drop_index('uq_suggestions_author_submission_key', table_name='suggestions')
    op.drop_column('suggestions', 'submission_key')
