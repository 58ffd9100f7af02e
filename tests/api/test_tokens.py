"""Personal API tokens: created and revoked on CSRF-protected pages, audit-logged, stored only as a hash."""
import re

import pytest
import sqlalchemy as sa

from accounts import recovery
from accounts import services as account_services
from accounts.models import User
from api import tokens
from api.models import ApiToken
from api.tokens import MAX_ACTIVE_TOKENS, hash_secret
from core.audit import AuditLog
from core.extensions import db
from suggestions.models import Suggestion, Vote
from tests.api.helpers import api_post, make_token
from tests.conftest import login
from tests.factories import PASSWORD, make_campaign, make_suggestion, make_user

NEW_PROPOSAL = {"title": "建议在青溪大道增设非机动车道", "body": "青溪大道车流量大，非机动车与机动车混行，存在安全隐患，建议增设隔离的非机动车道。",
                "category": "transport"}


def _secret_on(page: str) -> str:
    return re.search(r'id="new-secret"[^>]*value="([^"]+)"', page).group(1)


def test_token_page_needs_login(client):
    response = client.get("/api/tokens/")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_create_list_and_revoke_a_token(client):
    user = make_user()
    campaign = make_campaign()
    db.session.commit()
    login(client, user)
    assert 'href="/api/tokens/"' in client.get("/accounts/settings").get_data(as_text=True)  # from the account page

    response = client.post("/api/tokens/", data={"name": "我的脚本"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = _secret_on(page)
    assert secret.startswith("jy_") and len(secret) > 40
    assert "<code>Authorization: Bearer &lt;令牌&gt;</code>" in page  # was "Bearer ." (the placeholder read as a tag)
    token = db.session.scalar(sa.select(ApiToken))
    assert token.user_id == user.id and token.name == "我的脚本"
    assert token.token_hash == hash_secret(secret) and secret not in (token.prefix + token.token_hash)
    assert secret.startswith(token.prefix)
    # The secret is shown once: the list shows only its first characters.
    listing = client.get("/api/tokens/").get_data(as_text=True)
    assert "我的脚本" in listing and token.prefix in listing and secret not in listing

    created = api_post(client, "/api/v1/proposals", secret, json={"campaign_id": campaign.id, **NEW_PROPOSAL})
    assert created.status_code == 201, created.get_json()
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None

    response = client.post(f"/api/tokens/{token.id}/revoke")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "api_tokens")
                                 .order_by(AuditLog.id)).all()
    assert actions == ["api_token.create", "api_token.revoke"]

    refused = api_post(client, "/api/v1/proposals", secret, language="en",
                       json={"campaign_id": campaign.id, **NEW_PROPOSAL, "title": "另一条建议：增设路灯"})
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "This API token is not valid or has been revoked."
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 1


def test_token_pages_need_the_csrf_token(client):
    user = make_user()
    secret = make_token(user)
    db.session.commit()
    login(client, user)
    assert client.post("/api/tokens/", data={"name": "x"}, csrf=False).status_code == 400
    token = db.session.scalar(sa.select(ApiToken))
    assert client.post(f"/api/tokens/{token.id}/revoke", csrf=False).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    assert db.session.get(ApiToken, token.id).revoked_at is None and secret


def test_nobody_revokes_another_users_token(client):
    owner, other = make_user(), make_user()
    make_token(owner)
    db.session.commit()
    token = db.session.scalar(sa.select(ApiToken))
    login(client, other)
    response = client.post(f"/api/tokens/{token.id}/revoke")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert "您名下没有这个编号的令牌" in client.get("/api/tokens/").get_data(as_text=True)
    assert "测试脚本" not in client.get("/api/tokens/").get_data(as_text=True)


def test_bad_token_names_and_too_many_tokens(client):
    user = make_user()
    db.session.commit()
    login(client, user)
    response = client.post("/api/tokens/", data={"name": "   "})
    assert response.status_code == 422 and "不能为空" in response.get_data(as_text=True)
    for n in range(MAX_ACTIVE_TOKENS):
        make_token(user, f"t{n}")
    db.session.commit()
    response = client.post("/api/tokens/", data={"name": "one more"})
    assert response.status_code == 409 and 'id="new-secret"' not in response.get_data(as_text=True)


def test_a_logged_in_session_is_not_api_authentication(client):
    """The API is exempt from CSRF because it never reads the session cookie: a browser session gets a 401."""
    user = make_user()
    campaign = make_campaign()
    db.session.commit()
    login(client, user)
    response = client.post("/api/v1/proposals", csrf=False, json={"campaign_id": campaign.id, **NEW_PROPOSAL})
    assert response.status_code == 401
    assert "Bearer" in response.get_json()["error"]
    assert "Set-Cookie" not in response.headers  # the API neither reads nor writes the session
    assert "Set-Cookie" not in client.get("/api/v1/proposals").headers
    # A form post, as a cross-site form would send, is refused the same way.
    response = client.post(f"/api/v1/proposals/{campaign.id}/support", csrf=False, data={"x": "1"})
    assert response.status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0


def test_wrong_schemes_and_garbage_tokens_are_refused(client):
    user = make_user()
    secret = make_token(user)
    campaign = make_campaign()
    db.session.commit()
    for header in (f"Basic {secret}", secret, "Bearer ", "Bearer " + "x" * 5000, f"Bearer {secret}x"):
        response = client.post("/api/v1/proposals", csrf=False, headers={"Authorization": header},
                               json={"campaign_id": campaign.id, **NEW_PROPOSAL})
        assert response.status_code == 401, header


def test_an_inactive_users_token_stops_working(client):
    user = make_user()
    secret = make_token(user)
    campaign = make_campaign()
    user.active = False
    db.session.commit()
    response = api_post(client, "/api/v1/proposals", secret, json={"campaign_id": campaign.id, **NEW_PROPOSAL})
    assert response.status_code == 401


def _support(client, proposal, secret):
    return api_post(client, f"/api/v1/proposals/{proposal.id}/support", secret, language="en")


def test_a_password_change_ends_the_accounts_api_tokens_and_other_sessions(app, client):
    """Someone who took a session or a token keeps neither once the owner changes the password: every token made
    before the change answers 401 and is listed as ended; one made afterwards works."""
    user = make_user("he_ping")
    proposals = [make_suggestion(make_campaign()) for _ in range(2)]
    old_secret = make_token(user, "旧脚本")
    db.session.commit()
    other_browser = login(app.test_client(), user)
    login(client, user)
    assert _support(client, proposals[0], old_secret).status_code == 200
    changed = client.post("/accounts/password", data={"current_password": PASSWORD, "password": "quiet-harbour-lantern",
                                                      "confirm": "quiet-harbour-lantern"})
    assert changed.status_code == 303
    assert other_browser.get("/suggestions/mine").status_code == 302
    refused = _support(client, proposals[1], old_secret)
    assert refused.status_code == 401 and refused.get_json()["error"] == "This API token is not valid or has been revoked."
    page = client.get("/api/tokens/").get_data(as_text=True)
    assert "已因密码更改或重置而失效" in page
    new_secret = _secret_on(client.post("/api/tokens/", data={"name": "新脚本"}).get_data(as_text=True))
    assert _support(client, proposals[1], new_secret).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 2


def test_a_password_reset_ends_the_accounts_api_tokens(app, client):
    user = make_user()
    proposal = make_suggestion(make_campaign())
    secret = make_token(user)
    link = recovery.issue_reset_link(user, site_url="http://x", max_age_minutes=60)
    db.session.commit()
    assert client.post(link.removeprefix("http://x"), data={"password": "quiet-harbour-lantern",
                                                            "confirm": "quiet-harbour-lantern"}).status_code == 303
    assert _support(client, proposal, secret).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_tokens_and_sessions_ended_by_a_deactivation_stay_ended_after_reactivation(app, client):
    user, admin = make_user(), make_user(role="admin")
    proposal = make_suggestion(make_campaign())
    secret = make_token(user)
    db.session.commit()
    browser = login(app.test_client(), user)
    account_services.deactivate_user(admin, user, "账号被盗用")
    account_services.reactivate_user(admin, user)
    db.session.commit()
    assert _support(client, proposal, secret).status_code == 401
    assert browser.get("/suggestions/mine").status_code == 302
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "users")
                                 .order_by(AuditLog.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]


def test_a_token_created_by_a_request_that_began_before_the_change_is_ended_too(app):
    """A token is tied to the credentials its request's session was checked against, not to a clock: a request
    that loaded the account before another request changed the password makes a token that never works."""
    user = make_user()
    db.session.commit()
    assert user.credentials_version == 0  # loaded, as the login manager loads it at the start of a request
    db.session.execute(sa.update(User.__table__).where(User.__table__.c.id == user.id)
                       .values(credentials_version=1))  # the change, committed meanwhile by another request
    _token, secret = tokens.create_token(user, "竞态")
    db.session.commit()
    with pytest.raises(tokens.Unauthenticated):
        tokens.authenticate(secret)
