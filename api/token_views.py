"""Pages where a logged-in user creates, lists and revokes personal API tokens (CSRF-protected forms)."""
from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from api import tokens
from api.forms import TokenForm
from api.models import ApiToken
from core.errors import DomainError
from core.extensions import db
from core.web import redirect_with_error

bp = Blueprint("api_tokens", __name__, url_prefix="/api/tokens")


def _page(form: TokenForm, status: int = 200, secret: str | None = None, new_token: ApiToken | None = None):
    user_tokens = db.session.scalars(tokens.tokens_query(current_user)).all()
    response = make_response(render_template("api/tokens.html", form=form, tokens=user_tokens, secret=secret,
                                             new_token=new_token), status)
    response.headers["Cache-Control"] = "no-store"  # the page may show a secret
    return response


@bp.get("/")
@login_required
def index():
    return _page(TokenForm(formdata=None))


@bp.post("/")
@login_required
def create():
    """Create a token and show its secret on this answer only (it is not stored, nor put in the session)."""
    form = TokenForm()
    if not form.validate():
        return _page(form, 422)
    try:
        token, secret = tokens.create_token(current_user, form.name.data)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return _page(form, error.status_code)
    db.session.commit()
    return _page(TokenForm(formdata=None), secret=secret, new_token=token)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of the user's tokens (CSRFProtect has checked the form's token before this runs)."""
    try:
        tokens.revoke_token(current_user, db.session.get(ApiToken, token_id) if token_id < 2**31 else None)
    except DomainError as error:
        return redirect_with_error(error, url_for("api_tokens.index"))
    db.session.commit()
    flash(_("The token has been revoked: programs using it can no longer act for you."), "success")
    return redirect(url_for("api_tokens.index"), code=303)
