"""analytics_counts: an index by body and measure, so that an edition's figures read only its bodies' rows

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 23:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_analytics_counts_body_measure', 'analytics_counts', ['body_id', 'measure'])


def downgrade():
    op.drop_index('ix_analytics_counts_body_measure', table_name='analytics_counts')
