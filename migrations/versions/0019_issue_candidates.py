"""issue candidates: two clusters a batch left apart that may be one issue, offered to staff with the evidence

Rewritten by every batch clustering of a campaign (suggestions/issue_groups.py); a new table only.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'issue_candidates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('other_cluster_id', sa.Integer(), nullable=False),
        sa.Column('suggestion_id', sa.Integer(), nullable=False),
        sa.Column('other_suggestion_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('why', sa.String(length=16), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_issue_candidates_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_issue_candidates_cluster_id_clusters')),
        sa.ForeignKeyConstraint(['other_cluster_id'], ['clusters.id'],
                                name=op.f('fk_issue_candidates_other_cluster_id_clusters')),
        sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'],
                                name=op.f('fk_issue_candidates_suggestion_id_suggestions')),
        sa.ForeignKeyConstraint(['other_suggestion_id'], ['suggestions.id'],
                                name=op.f('fk_issue_candidates_other_suggestion_id_suggestions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_candidates')),
    )
    op.create_index('ix_issue_candidates_cluster', 'issue_candidates', ['cluster_id'])
    op.create_index('ix_issue_candidates_other_cluster', 'issue_candidates', ['other_cluster_id'])
    op.create_index('ix_issue_candidates_campaign', 'issue_candidates', ['campaign_id'])


def downgrade():
    op.drop_table('issue_candidates')
