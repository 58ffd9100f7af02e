"""Registration, login, logout, account settings, password change and reset, the mobile number, and the
language switch."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import phones, recovery, services
from accounts.forms import (
    ChangePasswordForm,
    LanguageForm,
    LoginForm,
    PhoneCodeForm,
    PhoneForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from accounts.models import (
    BODY_KIND_LABELS,
    BODY_LEVEL_LABELS,
    MEMBERSHIP_ROLE_LABELS,
    ROLE_LABELS,
    MembershipRole,
)
from accounts.names import DisplayNameRefused
from accounts.password_policy import WeakPassword
from core.errors import DomainError
from core.extensions import db, limiter
from core.phones import format_phone, mask_phone
from core.ratelimit import MESSAGES, account_key, address_key, configured
from core.sms import gateway_from_config
from core.web import safe_next_url

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _login_account_key() -> str:
    """Login attempts on one account, from any address. The count starts afresh when the password is reset or
    changed (the session version moves on), so someone whose account is being guessed at gets in through
    "Forgot your password?" at once. Names no account can have share one count."""
    username = services.normalise_username(request.form.get("username"))
    if not services.USERNAME_PATTERN.match(username):
        return "login-account:-"
    user = services.find_user(username)
    return f"login-account:{username}:{user.session_version if user else 0}"


def _login_failed(response) -> bool:
    """Failed logins count against the address; successful ones do not (an office or a mobile network shares
    one address)."""
    return g.get("login_failed", False)


@bp.app_context_processor
def _labels() -> dict:
    """Label tables for roles and body kinds and levels, available in every template."""
    return {"role_labels": ROLE_LABELS, "body_kind_labels": BODY_KIND_LABELS, "body_level_labels": BODY_LEVEL_LABELS,
            "membership_role_labels": MEMBERSHIP_ROLE_LABELS}


def _show_error(form, error: DomainError, fallback) -> None:
    """Put a refused service call's message under the field it is about (``fallback`` when it names none)."""
    db.session.rollback()
    fields = {WeakPassword: "password", DisplayNameRefused: "display_name", services.InvalidEmail: "email",
              services.WrongPassword: "current_password"}
    name = next((name for kind, name in fields.items() if isinstance(error, kind) and name in form), None)
    (form[name] if name else fallback).errors.append(str(error.message))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(configured("REGISTER_RATE_LIMIT"), methods=["POST"], key_func=address_key,
               error_message=MESSAGES["register"])
def register():
    form = RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.register_user(form.username.data, form.password.data, form.display_name.data,
                                          form.email.data or "")
        except DomainError as error:
            _show_error(form, error, form.username)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.public_name), "success")
            return redirect(safe_next_url(form.next.data, url_for("home")), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(configured("LOGIN_ACCOUNT_RATE_LIMIT"), methods=["POST"], key_func=_login_account_key,
               error_message=MESSAGES["login_account"])
@limiter.limit(configured("LOGIN_ADDRESS_RATE_LIMIT"), methods=["POST"], key_func=address_key,
               deduct_when=_login_failed, error_message=MESSAGES["login_address"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.find_user(form.username.data)
        # End the read before argon2 runs (~0.1 s): on SQLite a POST's transaction holds the write lock.
        db.session.commit()
        try:
            services.check_password(user, form.password.data)
        except DomainError as error:
            g.login_failed = True
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


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """One's display name and e-mail address, and the bodies one works for."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, display_name=form.display_name.data, email=form.email.data,
                                    current_password=form.current_password.data or "")
        except DomainError as error:
            _show_error(form, error, form.display_name)
        else:
            db.session.commit()
            flash(_("Your settings have been saved."), "success")
            return redirect(url_for("accounts.settings"), code=303)
    status = 422 if form.is_submitted() else 200
    phone = phones.verified_phone(current_user)
    return render_template("accounts/settings.html", form=form, memberships=current_user.memberships,
                           manager=MembershipRole.MANAGER, phone=format_phone(phone.number) if phone else None), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(configured("PASSWORD_RATE_LIMIT"), methods=["POST"], key_func=address_key,
               error_message=MESSAGES["password"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except DomainError as error:
            _show_error(form, error, form.password)
        else:
            db.session.commit()
            login_user(user)  # this browser carries the new session version; every other session has ended
            flash(_("Your password has been changed. You have been logged out everywhere else."), "success")
            return redirect(url_for("accounts.settings"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/password.html", form=form), status


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(configured("PASSWORD_RATE_LIMIT"), methods=["POST"], key_func=address_key,
               error_message=MESSAGES["password"])
def reset_request():
    """Ask for a reset link. The answer is the same whether or not the address belongs to an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        recovery.request_password_reset(form.email.data, site_url=current_app.config["SITE_URL"],
                                        max_age_minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"])
        db.session.commit()
        flash(_("If an account is registered with %(email)s, we have sent it a link to choose a new password. "
                "The link works once, within %(n)d minutes.", email=form.email.data,
                n=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"]), "info")
        return redirect(url_for("accounts.login"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with the link from the e-mail."""
    if recovery.find_reset_token(token) is None:
        response = current_app.make_response((render_template("accounts/reset_invalid.html"), 404))
    else:
        form = ResetPasswordForm()
        if form.validate_on_submit():
            try:
                recovery.reset_password(token, form.password.data)
            except DomainError as error:
                _show_error(form, error, form.password)
            else:
                db.session.commit()
                logout_user()
                flash(_("Your password has been changed and every session of the account has ended. "
                        "Please log in with the new password."), "success")
                return redirect(url_for("accounts.login"), code=303)
        status = 422 if form.is_submitted() else 200
        response = current_app.make_response((render_template("accounts/reset_password.html", form=form), status))
    # The secret is in the address: never send it on in a Referer, never keep the page in a cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in current_app.config["LANGUAGES"]:
        session["language"] = form.language.data
    return redirect(safe_next_url(form.next.data, url_for("home")), code=303)


def _own_account_key() -> str:
    """The logged-in user's limits (the same key as their proposals' and votes' limits)."""
    return account_key(current_user.id)


def _phone_page(number_form: PhoneForm, code_form: PhoneCodeForm, status: int = 200):
    """The mobile-number page: the verified number, else the code sent (step 2) and the number form (step 1)."""
    phone = phones.verified_phone(current_user)
    pending = None if phone else phones.pending_code(current_user)
    return render_template("accounts/phone.html", number_form=number_form, code_form=code_form,
                           phone=format_phone(phone.number) if phone else None, verified_at=phone and phone.verified_at,
                           pending_to=mask_phone(pending.number) if pending else None,
                           pending_until=pending.expires_at if pending else None,
                           minutes=current_app.config["PHONE_CODE_MINUTES"]), status


@bp.get("/phone")
@login_required
def phone():
    """Verify a mobile number (some campaigns ask for one): the number is seen by its owner only."""
    back = request.args.get("next", "")
    return _phone_page(PhoneForm(formdata=None, next=back), PhoneCodeForm(formdata=None, next=back))


@bp.post("/phone")
@login_required
@limiter.limit(configured("PHONE_RATE_LIMIT"), key_func=address_key, error_message=MESSAGES["phone_code"])
def send_phone_code():
    """Step 1: send a code to the number typed."""
    form = PhoneForm()
    if form.validate():
        try:
            phones.request_code(current_user, form.phone.data, gateway=gateway_from_config(current_app.config),
                                rules=phones.CodeRules.from_config(current_app.config))
        except DomainError as error:
            db.session.rollback()
            form.phone.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("A code has been sent to your mobile. It works within %(n)d minutes.",
                    n=current_app.config["PHONE_CODE_MINUTES"]), "success")
            return redirect(url_for("accounts.phone", next=safe_next_url(form.next.data, "") or None), code=303)
    return _phone_page(form, PhoneCodeForm(formdata=None, next=form.next.data), 422)


@bp.post("/phone/confirm")
@login_required
@limiter.limit(configured("PHONE_CONFIRM_RATE_LIMIT"), key_func=_own_account_key,
               error_message=MESSAGES["phone_confirm_account"])
@limiter.limit(configured("PHONE_CONFIRM_ADDRESS_RATE_LIMIT"), key_func=address_key,
               error_message=MESSAGES["phone_confirm_address"])
def confirm_phone_code():
    """Step 2: the code typed back verifies the number. A wrong try is counted (committed) before the refusal."""
    form = PhoneCodeForm()
    if form.validate():
        try:
            phones.confirm_code(current_user, form.code.data, rules=phones.CodeRules.from_config(current_app.config))
            db.session.commit()
        except phones.WrongCode as error:
            db.session.commit()  # the wrong try counts
            flash(str(error.message), "error")
            return redirect(url_for("accounts.phone", next=safe_next_url(form.next.data, "") or None), code=303)
        except DomainError as error:  # shown above the forms: the code form is gone once nothing can be typed
            db.session.rollback()
            form.form_errors.append(str(error.message))
        else:
            flash(_("Your mobile number has been verified."), "success")
            return redirect(safe_next_url(form.next.data, url_for("accounts.settings")), code=303)
    return _phone_page(PhoneForm(formdata=None, next=form.next.data), form, 422)
