"""Administration pages: bodies, their staff, and site roles. Administrators only."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts import services
from accounts.forms import BodyForm, MemberForm, SiteRoleForm
from accounts.models import Body, Membership, User
from core.errors import DomainError
from core.extensions import db

bp = Blueprint("accounts_admin", __name__, url_prefix="/accounts/admin")


@bp.before_request
@login_required
def _administrators_only():
    if not current_user.is_admin:
        abort(403)


def _find_user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == services.normalise_username(username)))


@bp.route("/bodies", methods=["GET", "POST"])
def bodies():
    locale = str(get_locale())
    all_bodies = db.session.scalars(sa.select(Body).order_by(Body.level, Body.region, Body.id)).all()
    form = BodyForm()
    form.parent_id.choices = [("", _("None"))] + [(str(b.id), b.display_name(locale)) for b in all_bodies]
    valid_parents = {str(b.id) for b in all_bodies}
    if form.validate_on_submit():
        parent_id = form.parent_id.data or ""
        parent = db.session.get(Body, int(parent_id)) if parent_id in valid_parents else None
        try:
            body = services.create_body(current_user, name=form.name.data, name_en=form.name_en.data,
                                        kind=form.kind.data, level=form.level.data, region=form.region.data,
                                        parent=parent, contact_email=form.contact_email.data)
        except DomainError as error:
            db.session.rollback()
            form.name.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The body has been created."), "success")
            return redirect(url_for("accounts_admin.body", body_id=body.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/admin_bodies.html", bodies=all_bodies, form=form,
                           role_form=SiteRoleForm(formdata=None)), status


@bp.route("/bodies/<int:body_id>", methods=["GET", "POST"])
def body(body_id: int):
    body = db.get_or_404(Body, body_id)
    form = MemberForm()
    if form.validate_on_submit():
        user = _find_user(form.username.data)
        if user is None:
            form.username.errors.append(_("No user with this username."))
        else:
            try:
                services.add_member(current_user, user, body, form.role.data)
            except DomainError as error:
                db.session.rollback()
                form.username.errors.append(str(error.message))
            else:
                db.session.commit()
                flash(_("%(name)s is now staff of this body.", name=user.display_name), "success")
                return redirect(url_for("accounts_admin.body", body_id=body.id), code=303)
    members = db.session.scalars(sa.select(Membership).where(Membership.body_id == body.id)
                                 .order_by(Membership.id)).all()
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/admin_body.html", body=body, members=members, form=form), status


@bp.post("/roles")
def set_role():
    form = SiteRoleForm()
    user = _find_user(form.username.data) if form.validate_on_submit() else None
    if user is None:
        flash(_("No user with this username."), "error")
    else:
        services.set_role(current_user, user, form.role.data)
        db.session.commit()
        flash(_("The site role of %(name)s has been changed.", name=user.display_name), "success")
    return redirect(url_for("accounts_admin.bodies"), code=303)
