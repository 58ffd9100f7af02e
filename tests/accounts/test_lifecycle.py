"""Site roles and body memberships stay coherent; body managers manage their own body's staff; administrators
deactivate and reactivate accounts. Every change is audit-logged and takes effect at the next request."""
import pytest
import sqlalchemy as sa

from accounts import services
from accounts.models import Membership, Role, User
from core.audit import AuditLog
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD, make_body, make_staff, make_user


def memberships_of(user) -> list[tuple[int, str]]:
    return sorted(db.session.execute(sa.select(Membership.body_id, Membership.role)
                                     .where(Membership.user_id == user.id)))


def last_audit() -> AuditLog:
    return db.session.scalar(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1))


def test_demoting_to_citizen_removes_every_membership_in_one_audited_action(app):
    first, second = make_body(), make_body()
    admin = make_user(role="admin")
    clerk = make_staff(first)
    services.add_member(None, clerk, second, "manager")
    services.set_role(admin, clerk, "citizen")
    assert clerk.role == Role.CITIZEN and memberships_of(clerk) == []
    entry = last_audit()
    assert (entry.action, entry.actor_id, entry.target_id) == ("user.set_role", admin.id, clerk.id)
    assert entry.detail == {"role": "citizen", "previous": "staff", "removed_from_bodies": sorted([first.id, second.id])}


def test_staff_is_made_by_a_membership_not_by_the_role_alone(app):
    admin, citizen = make_user(role="admin"), make_user()
    with pytest.raises(InvalidInput):
        services.set_role(admin, citizen, "staff")
    with pytest.raises(InvalidInput):
        services.set_role(admin, citizen, "emperor")
    services.add_member(admin, citizen, make_body())
    assert citizen.role == Role.STAFF
    services.set_role(admin, citizen, "moderator")  # a moderator may work for a body too
    assert citizen.role == Role.MODERATOR and len(memberships_of(citizen)) == 1
    services.set_role(admin, citizen, "staff")  # and go back to being staff only
    assert citizen.role == Role.STAFF


def test_only_other_administrators_change_roles_and_access(app):
    admin, other_admin, moderator, citizen = (make_user(role="admin"), make_user(role="admin"),
                                              make_user(role="moderator"), make_user())
    for actor in (moderator, citizen, make_staff(make_body(), role="manager")):
        with pytest.raises(NotAllowed):
            services.set_role(actor, citizen, "admin")
        with pytest.raises(NotAllowed):
            services.deactivate_user(actor, citizen, "测试")
    with pytest.raises(Conflict):
        services.set_role(admin, admin, "citizen")  # nobody locks themselves out
    with pytest.raises(Conflict):
        services.deactivate_user(admin, admin, "测试")
    services.deactivate_user(admin, other_admin, "离职")
    with pytest.raises(NotAllowed):  # a deactivated administrator has no rights left
        services.set_role(other_admin, citizen, "moderator")
    assert citizen.role == Role.CITIZEN


def test_removing_the_last_membership_makes_staff_a_citizen_but_keeps_a_moderator(app):
    first, second = make_body(), make_body()
    clerk, moderator = make_staff(first), make_user(role="moderator")
    services.add_member(None, clerk, second)
    services.add_member(None, moderator, first)
    manager = make_staff(first, role="manager")
    services.remove_member(manager, db.session.scalar(sa.select(Membership).where(
        Membership.user_id == clerk.id, Membership.body_id == first.id)))
    assert clerk.role == Role.STAFF and memberships_of(clerk) == [(second.id, "staff")]
    services.remove_member(None, clerk.memberships[0])
    assert clerk.role == Role.CITIZEN and memberships_of(clerk) == []
    services.remove_member(manager, moderator.memberships[0])
    assert moderator.role == Role.MODERATOR
    entry = last_audit()
    assert (entry.action, entry.actor_id, entry.body_id) == ("body.remove_member", manager.id, first.id)
    assert entry.detail == {"user_id": moderator.id, "role": "staff", "site_role": "moderator"}


def test_managers_manage_their_own_body_only_and_not_themselves(app):
    body, other_body = make_body(), make_body()
    manager, staff, outsider = make_staff(body, role="manager"), make_staff(body), make_staff(other_body, role="manager")
    newcomer = make_user()
    with pytest.raises(NotAllowed):
        services.add_member(staff, newcomer, body)  # plain staff do not manage staff
    with pytest.raises(NotAllowed):
        services.add_member(outsider, newcomer, body)
    with pytest.raises(NotAllowed):
        services.remove_member(outsider, staff.memberships[0])
    with pytest.raises(Conflict):
        services.remove_member(manager, manager.memberships[0])
    with pytest.raises(Conflict):
        services.change_member_role(manager, manager.memberships[0], "staff")
    services.add_member(manager, newcomer, body, "staff")
    services.change_member_role(manager, newcomer.memberships[0], "manager")
    assert memberships_of(newcomer) == [(body.id, "manager")]
    assert last_audit().action == "body.change_member_role"
    with pytest.raises(Conflict):
        services.add_member(manager, newcomer, body)
    services.deactivate_user(None, outsider, "离职")
    with pytest.raises(Conflict):
        services.add_member(manager, outsider, body)  # a deactivated account is not added


def test_a_manager_runs_the_staff_page(client):
    body, other_body = make_body(), make_body()
    manager, staff = make_staff(body, role="manager"), make_staff(body, "li_keyuan")
    newcomer = make_user("zhang_ganshi")
    db.session.commit()
    login(client, manager)
    page = client.get(f"/accounts/bodies/{body.id}/staff").get_data(as_text=True)
    assert "li_keyuan" in page and "添加工作人员" in page
    assert client.get(f"/accounts/bodies/{other_body.id}/staff").status_code == 403
    assert client.post(f"/accounts/bodies/{body.id}/staff", data={"username": "ZHANG_GANSHI", "role": "staff"}
                       ).status_code == 303
    assert memberships_of(newcomer) == [(body.id, "staff")]
    unknown = client.post(f"/accounts/bodies/{body.id}/staff", data={"username": "nobody_here", "role": "staff"})
    assert unknown.status_code == 422 and "没有这个用户名的用户" in unknown.get_data(as_text=True)
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == staff.id))
    assert client.post(f"/accounts/bodies/{body.id}/staff/{membership.id}/role",
                       data={f"m{membership.id}-role": "manager"}).status_code == 303
    assert memberships_of(staff) == [(body.id, "manager")]
    assert client.post(f"/accounts/bodies/{body.id}/staff/{membership.id}/remove").status_code == 303
    assert memberships_of(staff) == [] and db.session.get(User, staff.id).role == Role.CITIZEN
    own = db.session.scalar(sa.select(Membership).where(Membership.user_id == manager.id))
    assert client.post(f"/accounts/bodies/{body.id}/staff/{own.id}/remove").status_code == 303
    assert "不能更改自己在机构中的身份" in client.get(f"/accounts/bodies/{body.id}/staff").get_data(as_text=True)
    assert memberships_of(manager) == [(body.id, "manager")]
    # A membership of another body cannot be reached through this body's address.
    elsewhere = make_staff(other_body)
    db.session.commit()
    other_membership = elsewhere.memberships[0].id
    assert client.post(f"/accounts/bodies/{body.id}/staff/{other_membership}/remove").status_code == 404
    assert memberships_of(elsewhere) == [(other_body.id, "staff")]


def test_deactivation_ends_sessions_refuses_login_and_reactivation_restores(app, client):
    admin = make_user(role="admin")
    clerk = make_staff(make_body(), "chen_clerk")
    db.session.commit()
    clerk_browser = login(app.test_client(), clerk)
    assert clerk_browser.get("/suggestions/inbox").status_code == 200
    login(client, admin)
    response = client.post(f"/accounts/admin/users/{clerk.id}/deactivate", data={"reason": "冒充机构发布信息"})
    assert response.status_code == 303
    entry = last_audit()
    assert (entry.action, entry.actor_id, entry.detail) == ("user.deactivate", admin.id, {"reason": "冒充机构发布信息"})
    # The open session is anonymous at once, and the password no longer logs in.
    assert clerk_browser.get("/suggestions/inbox").status_code == 302
    refused = app.test_client().post("/accounts/login", data={"username": "chen_clerk", "password": PASSWORD})
    assert refused.status_code == 422 and "该账号已被停用" in refused.get_data(as_text=True)
    wrong = app.test_client().post("/accounts/login", data={"username": "chen_clerk", "password": "not-the-password"})
    assert "用户名或密码错误" in wrong.get_data(as_text=True)  # only the password's owner learns of the deactivation
    page = client.get(f"/accounts/admin/users/{clerk.id}").get_data(as_text=True)
    assert "冒充机构发布信息" in page and "重新启用账号" in page
    assert client.post(f"/accounts/admin/users/{clerk.id}/reactivate").status_code == 303
    assert last_audit().action == "user.reactivate"
    login(clerk_browser, clerk)
    assert clerk_browser.get("/suggestions/inbox").status_code == 200  # memberships were kept


def test_a_deactivation_needs_a_reason(client):
    admin, citizen = make_user(role="admin"), make_user()
    db.session.commit()
    login(client, admin)
    response = client.post(f"/accounts/admin/users/{citizen.id}/deactivate", data={"reason": " "})
    assert response.status_code == 422 and "理由不能为空" in response.get_data(as_text=True)
    assert db.session.get(User, citizen.id).active


def test_administrators_find_accounts(client):
    make_user("wang_xiaoming", display_name="王小明")
    make_user("wang_fang")
    make_user("li_si")
    login(client, make_user(role="admin"))
    page = client.get("/accounts/admin/users?q=WANG").get_data(as_text=True)
    assert "wang_xiaoming" in page and "wang_fang" in page and "li_si" not in page
    assert "wang_xiaoming" in client.get("/accounts/admin/users?q=王小").get_data(as_text=True)
    assert "li_si" not in client.get("/accounts/admin/users?q=%25").get_data(as_text=True)  # % is a character


def test_cli_commands(app):
    body = make_body()
    clerk = make_staff(body, "zhou_clerk")
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["accounts", "deactivate", "zhou_clerk", "--reason", "离职"]).exit_code == 0
    assert not db.session.get(User, clerk.id).active
    assert runner.invoke(args=["accounts", "reactivate", "zhou_clerk"]).exit_code == 0
    result = runner.invoke(args=["accounts", "remove-member", "zhou_clerk", str(body.id)])
    assert result.exit_code == 0 and "citizen" in result.output
    assert runner.invoke(args=["accounts", "add-member", "zhou_clerk", str(body.id), "--role", "manager"]).exit_code == 0
    assert runner.invoke(args=["accounts", "set-role", "zhou_clerk", "citizen"]).exit_code == 0
    db.session.expire_all()
    user = db.session.get(User, clerk.id)
    assert user.role == Role.CITIZEN and memberships_of(user) == []
    refused = runner.invoke(args=["accounts", "set-role", "zhou_clerk", "staff"])
    assert refused.exit_code != 0 and "工作人员须在机构的工作人员页面中添加" in refused.output
    actions = list(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.actor_id.is_(None),
                                                                       AuditLog.target_id == clerk.id,
                                                                       AuditLog.target_type == "users")))
    assert actions == ["user.deactivate", "user.reactivate", "user.set_role"]
