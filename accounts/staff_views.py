"""A body's staff page: its managers (and administrators) add people, change their role and remove them."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts import regions, services
from accounts.forms import MemberForm, MemberRoleForm
from accounts.models import Body, Membership
from accounts.permissions import can_manage_body, operated_prefixes
from core.errors import DomainError
from core.extensions import db
from core.templating import display_name
from core.web import redirect_with_error

bp = Blueprint("accounts_staff", __name__, url_prefix="/accounts/bodies")


def _managed_body(body_id: int) -> Body:
    """The body, if the current user may change its staff (404 if there is none, 403 if they may not)."""
    body = db.get_or_404(Body, body_id)
    if not can_manage_body(current_user, body.id):
        abort(403)
    return body


def _membership(body: Body, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.body_id != body.id:
        abort(404)
    return membership


def _page(body: Body, form: MemberForm, status: int = 200):
    members = db.session.scalars(sa.select(Membership).where(Membership.body_id == body.id)
                                 .order_by(Membership.id)).all()
    role_forms = {m.id: MemberRoleForm(formdata=None, role=m.role, prefix=f"m{m.id}") for m in members}
    return render_template("accounts/body_staff.html", body=body, members=members, form=form,
                           role_forms=role_forms), status


@bp.route("/<int:body_id>/staff", methods=["GET", "POST"])
@login_required
def staff(body_id: int):
    """The body's staff; a post adds someone by username."""
    body = _managed_body(body_id)
    form = MemberForm()
    if form.validate_on_submit():
        user = services.find_user(form.username.data)
        if user is None:
            form.username.errors.append(_("No user with this username."))
        else:
            try:
                services.add_member(current_user, user, body, form.role.data)
            except DomainError as error:
                db.session.rollback()
                if error.status_code == 403:
                    raise
                form.username.errors.append(str(error.message))
            else:
                db.session.commit()
                flash(_("%(name)s is now staff of this body.", name=user.public_name), "success")
                return redirect(url_for("accounts_staff.staff", body_id=body.id), code=303)
    return _page(body, form, 422 if form.is_submitted() else 200)


@bp.post("/<int:body_id>/staff/<int:membership_id>/role")
@login_required
def change_role(body_id: int, membership_id: int):
    body = _managed_body(body_id)
    membership = _membership(body, membership_id)
    form = MemberRoleForm(prefix=f"m{membership.id}")
    back = url_for("accounts_staff.staff", body_id=body.id)
    if not form.validate_on_submit():
        flash(_("Choose a role from the list."), "error")
        return redirect(back, code=303)
    try:
        services.change_member_role(current_user, membership, form.role.data)
    except DomainError as error:
        return redirect_with_error(error, back)
    db.session.commit()
    flash(_("The role of %(name)s has been changed.", name=membership.user.public_name), "success")
    return redirect(back, code=303)


@bp.post("/<int:body_id>/staff/<int:membership_id>/remove")
@login_required
def remove(body_id: int, membership_id: int):
    body = _managed_body(body_id)
    membership = _membership(body, membership_id)
    name = membership.user.public_name
    try:
        services.remove_member(current_user, membership)
    except DomainError as error:
        return redirect_with_error(error, url_for("accounts_staff.staff", body_id=body.id))
    db.session.commit()
    flash(_("%(name)s is no longer staff of this body.", name=name), "success")
    return redirect(url_for("accounts_staff.staff", body_id=body.id), code=303)


@bp.get("/find")
@login_required
def find():
    """The body picker: the best bodies for what staff typed (``q``: name, pinyin initials or whole pinyin, region;
    ``exclude``: a body to leave out), as JSON for static/js/body_picker.js."""
    if not (current_user.body_ids() or current_user.is_admin or operated_prefixes(current_user)):
        abort(403)
    found = regions.find_bodies(request.args.get("q", "")[:100], exclude=request.args.get("exclude", type=int))
    return jsonify(bodies=[{"id": b.id, "name": display_name(b), "region": b.region} for b in found])
