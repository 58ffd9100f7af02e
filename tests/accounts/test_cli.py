"""The accounts CLI: administrators, bodies and staff membership."""
import sqlalchemy as sa

from accounts.models import Body, Membership, User
from core.audit import AuditLog
from core.extensions import db


def test_create_admin_body_and_member(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accounts", "create-admin", "root_admin"], input="long-password\nlong-password\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User.role).where(User.username == "root_admin")) == "admin"

    result = runner.invoke(args=["accounts", "create-body", "江南省人大常委会", "--kind", "congress",
                                 "--level", "provincial", "--region", "江南省"])
    assert result.exit_code == 0, result.output
    body = db.session.scalar(sa.select(Body))
    assert (body.kind, body.level) == ("congress", "provincial")

    runner.invoke(args=["accounts", "create-admin", "clerk"], input="long-password\nlong-password\n")
    result = runner.invoke(args=["accounts", "add-member", "clerk", str(body.id), "--role", "manager"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Membership.role)) == "manager"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "body.add_member")) == 1


def test_create_admin_refuses_duplicate_username(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["accounts", "create-admin", "boss"], input="long-password\nlong-password\n")
    result = runner.invoke(args=["accounts", "create-admin", "BOSS"], input="long-password\nlong-password\n")
    assert result.exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
