"""Registration, login, logout and the language switch."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import services
from accounts.forms import LanguageForm, LoginForm, RegisterForm
from accounts.models import BODY_KIND_LABELS, BODY_LEVEL_LABELS, MEMBERSHIP_ROLE_LABELS, ROLE_LABELS
from core.errors import DomainError
from core.extensions import db, limiter
from core.web import safe_next_url

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _login_rate_key() -> str:
    """Login attempts are limited per account and address, so one office behind one IP is not locked out."""
    return f"login:{services.normalise_username(request.form.get('username'))}:{request.remote_addr}"


@bp.app_context_processor
def _labels() -> dict:
    """Label tables for roles and body kinds and levels, available in every template."""
    return {"role_labels": ROLE_LABELS, "body_kind_labels": BODY_KIND_LABELS, "body_level_labels": BODY_LEVEL_LABELS,
            "membership_role_labels": MEMBERSHIP_ROLE_LABELS}


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(form.username.data, form.password.data, form.display_name.data,
                                          form.email.data or "")
        except DomainError as error:
            db.session.rollback()
            form.username.errors.append(str(error.message))
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.display_name), "success")
            return redirect(url_for("home"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_login_rate_key)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.find_user(form.username.data)
        # End the read before argon2 runs (~0.1 s): on SQLite a POST's transaction holds the write lock.
        db.session.commit()
        try:
            services.check_password(user, form.password.data)
        except DomainError as error:
            form.password.errors.append(str(error.message))
        else:
            services.record_login(user, form.password.data)
            db.session.commit()
            login_user(user)
            return redirect(safe_next_url(form.next.data, url_for("home")), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("home"), code=303)


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in current_app.config["LANGUAGES"]:
        session["language"] = form.language.data
    return redirect(safe_next_url(form.next.data, url_for("home")), code=303)
