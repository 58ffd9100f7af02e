"""Every form post without its CSRF token is refused and changes nothing."""
import pytest
import sqlalchemy as sa

from accounts.models import User
from api.models import ApiToken
from core.audit import AuditLog
from core.extensions import db
from moderation import words
from moderation.models import Report, SensitiveWord
from suggestions import clustering
from suggestions.models import Cluster, ClusterPin, DeadlineExtension, Follow, Rating, Reply, Suggestion, Vote
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion

FORM_POSTS = ["/accounts/register", "/accounts/login", "/accounts/logout", "/accounts/language",
              "/campaigns/new", "/campaigns/{campaign}/close", "/suggestions/new/{campaign}",
              "/suggestions/{suggestion}/vote", "/suggestions/{suggestion}/switch-support",
              "/suggestions/{suggestion}/reply",
              "/suggestions/{suggestion}/accept", "/suggestions/{suggestion}/withdraw",
              "/suggestions/{suggestion}/extend", "/suggestions/{suggestion}/rate",
              "/suggestions/clusters/{cluster}/confirm", "/suggestions/clusters/{cluster}/move_out",
              "/accounts/admin/bodies", "/suggestions/{suggestion}/follow", "/api/tokens/", "/api/tokens/1/revoke",
              "/moderation/report/suggestions/{suggestion}", "/moderation/decide", "/moderation/words",
              "/moderation/words/1/remove"]


def snapshot():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (User, Suggestion, Vote, Reply, Rating, DeadlineExtension, ClusterPin, Follow, ApiToken,
                           Report, SensitiveWord, AuditLog))


@pytest.mark.parametrize("path", FORM_POSTS)
def test_post_without_csrf_token_is_refused(client, path):
    body = make_body()
    campaign = make_campaign(body)
    suggestion = make_suggestion(campaign)
    make_suggestion(campaign, title="建议在城南小学门口设置护学岗")
    staff = make_staff(body)
    staff.role = "admin"
    clustering.cluster_campaign(campaign)
    words.seed_default_words()
    cluster = db.session.scalar(sa.select(Cluster).where(Cluster.representative_id == suggestion.id))
    db.session.commit()
    login(client, staff)
    before = snapshot()
    url = path.format(campaign=campaign.id, suggestion=suggestion.id, cluster=cluster.id)
    response = client.post(url, csrf=False, data={
        "username": "newuser", "password": "password123", "confirm": "password123", "value": "support",
        "decision": "adopted", "content": "您好，您的建议已采纳，谢谢。", "title": "关于增设路灯的建议",
        "body": "我们小区门口没有路灯，晚上出行不便，建议增设。", "category": "transport", "language": "en",
        "new_due_on": "2030-01-01", "reason": "需要调查", "satisfaction": "satisfied", "suggestion_id": suggestion.id,
        "name": "新机构", "kind": "department", "level": "county", "region": "江南省",
        "single": f"hide:suggestions-{suggestion.id}", "words": "混账"})
    assert response.status_code == 400
    assert "请刷新页面后重试" in response.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot() == before
    assert db.session.get(Suggestion, suggestion.id).status == "published"
