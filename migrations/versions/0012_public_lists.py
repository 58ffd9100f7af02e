"""public lists: a generated column `public` and list indexes that serve every page alike; public_since and the
stored related proposals (similar proposals are computed when a proposal becomes public, not on every view)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:57:51.269131

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


PUBLIC = "status IN ('published', 'accepted', 'replied', 'closed')"


def upgrade():
    # A generated column: SQLite can add only a VIRTUAL one to an existing table (a STORED one would mean
    # rebuilding the table, which its foreign keys refuse); PostgreSQL 15 has only STORED ones. Either way the
    # indexes below store its value.
    kind = "VIRTUAL" if op.get_bind().dialect.name == "sqlite" else "STORED"
    op.execute(f"ALTER TABLE suggestions ADD COLUMN public BOOLEAN GENERATED ALWAYS AS ({PUBLIC}) {kind} NOT NULL")
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestions_campaign_status_support'))
        batch_op.create_index('ix_suggestions_campaign_public_created', ['campaign_id', 'public', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_suggestions_campaign_public_support', ['campaign_id', 'public', 'support_count', 'id'], unique=False)
        batch_op.create_index('ix_suggestions_public_created', ['public', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_since', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_suggestions_campaign_public_since', ['campaign_id', 'public_since'], unique=False)
    op.create_table('related_proposals',
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('related_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['related_id'], ['suggestions.id'], name=op.f('fk_related_proposals_related_id_suggestions')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_related_proposals_suggestion_id_suggestions')),
    sa.PrimaryKeyConstraint('suggestion_id', 'related_id', name=op.f('pk_related_proposals'))
    )
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.create_index('ix_clusters_campaign_listed', ['campaign_id', 'supporter_count', 'size', 'id'],
                              unique=False, postgresql_where=sa.text('size > 1'), sqlite_where=sa.text('size > 1'))


def downgrade():
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_index('ix_clusters_campaign_listed')
    op.drop_table('related_proposals')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_campaign_public_since')
        batch_op.drop_column('public_since')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_public_created')
        batch_op.drop_index('ix_suggestions_campaign_public_support')
        batch_op.drop_index('ix_suggestions_campaign_public_created')
        batch_op.create_index(batch_op.f('ix_suggestions_campaign_status_support'), ['campaign_id', 'status', 'support_count', 'id'], unique=False)
    op.execute("ALTER TABLE suggestions DROP COLUMN public")
