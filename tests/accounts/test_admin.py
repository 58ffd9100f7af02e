"""Administrators manage bodies, staff, site roles and accounts; nobody else can (body managers manage their
own body's staff: tests/accounts/test_lifecycle.py)."""
import pytest
import sqlalchemy as sa

from accounts.models import Body, Membership, User
from core.audit import AuditLog
from core.extensions import db
from tests.conftest import login
from tests.factories import make_body, make_staff, make_user


def test_admin_creates_body_adds_staff_and_sets_role(client):
    admin = make_user("site_admin", role="admin")
    clerk = make_user("clerk")
    login(client, admin)
    response = client.post("/accounts/admin/bodies", data={
        "name": "临川市交通运输局", "name_en": "Linchuan Transport Bureau", "kind": "department",
        "level": "municipal", "region": "江南省临川市", "parent_id": "", "contact_email": "jt@linchuan.example.cn"})
    assert response.status_code == 303
    body = db.session.scalar(sa.select(Body).where(Body.name == "临川市交通运输局"))
    assert body.contact_email == "jt@linchuan.example.cn"
    assert response.headers["Location"] == f"/accounts/bodies/{body.id}/staff"
    response = client.post(f"/accounts/bodies/{body.id}/staff", data={"username": "CLERK", "role": "staff"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Membership.user_id).where(Membership.body_id == body.id)) == clerk.id
    assert db.session.get(User, clerk.id).role == "staff"
    client.post(f"/accounts/admin/users/{clerk.id}/role", data={"role": "moderator"})
    assert db.session.get(User, clerk.id).role == "moderator"
    actions = set(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.actor_id == admin.id)))
    assert actions == {"body.create", "body.add_member", "user.set_role"}


def test_duplicate_body_name_is_refused_with_a_message(client):
    make_body("青溪县人民政府")
    login(client, make_user(role="admin"))
    response = client.post("/accounts/admin/bodies", data={"name": "青溪县人民政府", "kind": "department",
                                                          "level": "county", "region": "江南省临川市青溪县"})
    assert response.status_code == 422
    assert "同名机构已存在" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Body)) == 1


@pytest.mark.parametrize("role", ["citizen", "staff", "moderator"])
def test_only_administrators_reach_the_admin_pages(client, role):
    user = make_staff(make_body()) if role == "staff" else make_user(role=role)
    target = make_user("someone")
    login(client, user)
    assert client.get("/accounts/admin/bodies").status_code == 403
    assert client.get("/accounts/admin/users").status_code == 403
    response = client.post(f"/accounts/admin/users/{target.id}/role", data={"role": "admin"})
    assert response.status_code == 403
    response = client.post(f"/accounts/admin/users/{target.id}/deactivate", data={"reason": "测试"})
    assert response.status_code == 403
    target = db.session.get(User, target.id)
    assert target.role == "citizen" and target.active
    assert client.post("/accounts/admin/bodies", data={"name": "冒名机构", "kind": "other", "level": "county",
                                                       "region": "某地"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Body).where(Body.name == "冒名机构")) == 0


def test_a_malformed_contact_email_is_refused(client):
    login(client, make_user(role="admin"))
    response = client.post("/accounts/admin/bodies", data={"name": "青溪县教育局", "kind": "department",
                                                          "level": "county", "region": "江南省临川市青溪县",
                                                          "contact_email": "not-an-address"})
    assert response.status_code == 422 and "有效的电子邮件地址" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Body)) == 0
