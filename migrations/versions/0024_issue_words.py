"""issue_words: each public proposal's words as the same-issue score reads them, kept between clusterings

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issue_words',
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('whole_words', sa.Text(), nullable=False),
    sa.Column('title_words', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_issue_words_suggestion_id_suggestions')),
    sa.PrimaryKeyConstraint('suggestion_id', name=op.f('pk_issue_words'))
    )


def downgrade():
    op.drop_table('issue_words')
