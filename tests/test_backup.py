"""The backup and restore drill, on both databases: `flask backup create`, changes after it, `flask backup restore`,
and the site serves exactly what the backup held (SQLite's online backup API; pg_dump and pg_restore)."""
import sqlalchemy as sa

from accounts.models import User
from campaigns.models import Campaign
from core.extensions import db
from suggestions import services
from suggestions.models import Suggestion, Vote
from tests.factories import make_campaign, make_suggestion, make_user


def test_a_restored_backup_is_the_site_as_it_was_backed_up(app, client, tmp_path):
    campaign = make_campaign()
    kept = make_suggestion(campaign, make_user(), title="城北菜市场门口路灯不亮", body="路灯坏了一个月，请尽快维修。")
    voter = make_user()
    services.vote(voter, kept, 1)
    db.session.commit()
    kept_id, voter_id, campaign_id = kept.id, voter.id, campaign.id
    runner = app.test_cli_runner()
    backup = tmp_path / "jianyan.backup"
    created = runner.invoke(args=["backup", "create", str(backup)])
    assert created.exit_code == 0, created.output
    assert backup.stat().st_size > 0 and "1 proposals" in created.output

    later = make_suggestion(db.session.get(Campaign, campaign_id), make_user(), title="备份之后才提交的建议", body="这一条建议提交于备份之后，不在备份里。")
    services.withdraw_vote(db.session.get(User, voter_id), db.session.get(Suggestion, kept_id))
    db.session.commit()
    later_id = later.id
    db.session.remove()

    restored = runner.invoke(args=["backup", "restore", "--yes", str(backup)])
    assert restored.exit_code == 0, restored.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 1
    assert db.session.get(Suggestion, later_id) is None
    assert db.session.scalar(sa.select(Vote.value).where(Vote.suggestion_id == kept_id, Vote.user_id == voter_id)) == 1
    assert db.session.get(Suggestion, kept_id).support_count == 1
    page = client.get(f"/suggestions/{kept_id}")
    assert page.status_code == 200 and "城北菜市场门口路灯不亮" in page.get_data(as_text=True)


def test_restoring_a_missing_backup_says_so_and_changes_nothing(app, tmp_path):
    make_suggestion()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["backup", "restore", "--yes", str(tmp_path / "none.backup")])
    assert result.exit_code != 0 and "none.backup" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 1
