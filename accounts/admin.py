"""Administration pages: bodies, and people's accounts (site role, deactivation, verified number). Administrators
only.

A body's staff are managed on its staff page (``accounts.staff_views``), which its managers use too.
"""
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts import phones, services
from accounts.forms import BodyForm, DeactivateForm, SiteRoleForm
from accounts.models import Body, User
from core.audit import AuditLog
from core.errors import DomainError
from core.extensions import db
from core.forms import select_choices
from core.text import remove_format_characters
from core.web import redirect_with_error

bp = Blueprint("accounts_admin", __name__, url_prefix="/accounts/admin")
SEARCH_MAX_LENGTH = 40


@bp.before_request
@login_required
def _administrators_only():
    if not current_user.is_admin:
        abort(403)


@bp.route("/bodies", methods=["GET", "POST"])
def bodies():
    locale = str(get_locale())
    all_bodies = db.session.scalars(sa.select(Body).order_by(Body.level, Body.region, Body.id)).all()
    form = BodyForm()
    form.parent_id.choices = select_choices([("", _("None"))] +
                                            [(str(b.id), b.display_name(locale)) for b in all_bodies])
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
            return redirect(url_for("accounts_staff.staff", body_id=body.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/admin_bodies.html", bodies=all_bodies, form=form), status


@bp.get("/users")
def users():
    """Find accounts by username or display name (the start of either)."""
    q = " ".join(remove_format_characters(request.args.get("q", ""))[:SEARCH_MAX_LENGTH].split())
    query = sa.select(User).order_by(User.id)
    if q:
        pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(User.username.like(services.normalise_username(pattern), escape="\\"),
                                   User.display_name.like(pattern, escape="\\")))
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("accounts/admin_users.html", page=page, q=q)


def _user_page(user: User, role_form: SiteRoleForm, deactivate_form: DeactivateForm, status: int = 200):
    history = db.session.scalars(sa.select(AuditLog).where(
        sa.or_(sa.and_(AuditLog.target_type == User.__tablename__, AuditLog.target_id == user.id),
               AuditLog.actor_id == user.id)).order_by(AuditLog.id.desc()).limit(20)).all()
    return render_template("accounts/admin_user.html", user=user, role_form=role_form,
                           deactivate_form=deactivate_form, history=history,
                           phone=phones.verified_phone(user)), status


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    user = db.get_or_404(User, user_id)
    return _user_page(user, SiteRoleForm(formdata=None, role=user.role), DeactivateForm(formdata=None))


@bp.post("/users/<int:user_id>/role")
def set_role(user_id: int):
    user = db.get_or_404(User, user_id)
    form = SiteRoleForm()
    if form.validate_on_submit():
        try:
            services.set_role(current_user, user, form.role.data)
        except DomainError as error:
            return redirect_with_error(error, url_for("accounts_admin.user", user_id=user.id))
        db.session.commit()
        flash(_("The site role of %(name)s has been changed.", name=user.public_name), "success")
        return redirect(url_for("accounts_admin.user", user_id=user.id), code=303)
    return _user_page(user, form, DeactivateForm(formdata=None), 422)


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    form = DeactivateForm()
    if form.validate_on_submit():
        try:
            services.deactivate_user(current_user, user, form.reason.data)
        except DomainError as error:
            return redirect_with_error(error, url_for("accounts_admin.user", user_id=user.id))
        db.session.commit()
        flash(_("The account of %(name)s has been deactivated; its sessions have ended.", name=user.public_name),
              "success")
        return redirect(url_for("accounts_admin.user", user_id=user.id), code=303)
    return _user_page(user, SiteRoleForm(formdata=None, role=user.role), form, 422)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    try:
        services.reactivate_user(current_user, user)
    except DomainError as error:
        return redirect_with_error(error, url_for("accounts_admin.user", user_id=user.id))
    db.session.commit()
    flash(_("The account of %(name)s can be used again.", name=user.public_name), "success")
    return redirect(url_for("accounts_admin.user", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/release-phone")
def release_phone(user_id: int):
    """Take the verified mobile number off an account (the person changed numbers): administrators never see it."""
    user = db.get_or_404(User, user_id)
    try:
        phones.release_phone(current_user, user)
    except DomainError as error:
        return redirect_with_error(error, url_for("accounts_admin.user", user_id=user.id))
    db.session.commit()
    flash(_("The verified mobile number of %(name)s has been released.", name=user.public_name), "success")
    return redirect(url_for("accounts_admin.user", user_id=user.id), code=303)
