"""The editions' pages: the list of local editions (/r/) and each edition's home page (/r/<code>/, or "/" on its own
host name), with its open campaigns, its standing 人民建议 channel and its figures."""
import os

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts import regions
from accounts import services as account_services
from accounts.forms import BodyForm
from accounts.models import BODY_KIND_LABELS, BODY_LEVEL_LABELS, Body, User
from analytics import metrics, rollup
from campaigns import services as campaign_services
from campaigns.models import PHASE_LABELS, Phase
from core.errors import DomainError, InvalidInput
from core.extensions import db
from core.forms import select_choices
from core.models import utcnow
from core.params import page_number
from core.web import redirect_with_error
from editions import services
from editions.forms import OperatorForm
from editions.models import Edition
from suggestions.queries import public_suggestions_page_of

bp = Blueprint("editions", __name__, url_prefix="/r")


def _edition_or_404(code: str) -> Edition:
    edition = services.edition_by_code(code)
    if edition is None:
        abort(404)
    return edition


@bp.get("/")
def index():
    """Every local edition with its headline figures, and the national total they add up to (with the bodies
    outside any edition)."""
    rollup.ensure_fresh()
    editions = services.all_editions()
    rows = [(e, metrics.headline(services.scope_of(e))) for e in editions]
    return render_template("editions/index.html", rows=rows, national=metrics.headline())


@bp.get("/<code>/")
def home(code: str):
    return edition_home(_edition_or_404(code))


def edition_home(edition: Edition):
    """An edition's home page: its standing channels for citizens' suggestions, its other open campaigns, those
    opening soon, the latest closed ones, and its figures (the national definitions, within its region). Its
    campaigns are its bodies' and those about its region run by a body above it; its figures are its bodies'."""
    rollup.ensure_fresh()
    now = utcnow()
    soon = current_app.config["CLOSING_SOON_DAYS"]
    def campaigns(phase: Phase, limit: int):
        return db.session.scalars(campaign_services.campaigns_query(
            now, phase=phase, closing_soon_days=soon, divisions=edition.prefix,
            divisions_path=edition.region.path).limit(limit)).all()
    open_campaigns = campaigns(Phase.OPEN, 24)
    return render_template(
        "editions/home.html", edition=edition, now=now, phase_labels=PHASE_LABELS,
        channels=[c for c in open_campaigns if c.closes_at is None],
        open_campaigns=[c for c in open_campaigns if c.closes_at is not None],
        upcoming_campaigns=campaigns(Phase.UPCOMING, 4), closed_campaigns=campaigns(Phase.CLOSED, 4),
        figures=metrics.headline(services.scope_of(edition)), can_run=services.can_run(current_user, edition))


@bp.get("/<code>/proposals")
def proposals(code: str):
    """The public proposals of the edition's campaigns, newest or most supported first."""
    edition = _edition_or_404(code)
    sort = request.args.get("sort", "newest")
    sort = sort if sort in ("newest", "supported") else "newest"
    page = public_suggestions_page_of(services.edition_campaign_ids(edition), sort, page_number(),
                                      current_app.config["PAGE_SIZE"])
    return render_template("editions/proposals.html", edition=edition, page=page, sort=sort)


@bp.get("/<code>/logo")
def logo(code: str):
    """The edition's logo. An SVG is served sandboxed: opened on its own, nothing in it runs."""
    edition = _edition_or_404(code)
    if not edition.logo:
        abort(404)
    response = send_from_directory(current_app.config["EDITION_LOGO_DIR"], edition.logo,
                                   mimetype=services.LOGO_TYPES[os.path.splitext(edition.logo)[1]], max_age=300)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.get("/<code>/edition.css")
def stylesheet(code: str):
    """The edition's colours as a stylesheet (the site's Content-Security-Policy allows no inline style)."""
    edition = _edition_or_404(code)
    css = (f".edition-band {{ background: {edition.colour}; color: {services.text_colour_on(edition.colour)}; }}\n"
           f".edition-band a {{ color: inherit; }}\n")
    return Response(css, mimetype="text/css", headers={"Cache-Control": "public, max-age=300"})


def _run_or_403(code: str) -> Edition:
    edition = _edition_or_404(code)
    if not services.can_run(current_user, edition):
        abort(403)
    return edition


def _manage_page(edition: Edition, body_form: BodyForm, operator_form: OperatorForm, status: int = 200):
    query = request.args.get("q", "")[:100]
    bodies = (regions.find_bodies(query, limit=50, within=edition.prefix) if query.strip()
              else db.session.scalars(sa.select(Body).where(services.bodies_in(edition))
                                      .order_by(Body.region_code, Body.level, Body.id).limit(50)).all())
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Body).where(services.bodies_in(edition)))
    return render_template("editions/manage.html", edition=edition, bodies=bodies, body_count=count, q=query,
                           body_form=body_form, operator_form=operator_form,
                           operators=services.operators_of(edition), divisions=services.divisions_of(edition),
                           body_kind_labels=BODY_KIND_LABELS, body_level_labels=BODY_LEVEL_LABELS), status


LEVELS_BELOW = {"province": ("provincial", "municipal", "county"), "city": ("municipal", "county"),
                "county": ("county",)}
"""The levels of the bodies an edition of a province, a city or a county holds, its own level first."""


def _body_form(edition: Edition) -> BodyForm:
    form = BodyForm(prefix="body")
    levels = LEVELS_BELOW[edition.region.level]
    form.level.choices = [choice for choice in form.level.choices if choice.value in levels]
    if not form.is_submitted():  # a new body of the edition: a department at the edition's own level, in its region
        form.level.data, form.kind.data, form.region.data = levels[0], "department", edition.region.path
    locale = str(get_locale())
    parents = db.session.scalars(sa.select(Body).where(services.bodies_in(edition), Body.level != "county")
                                 .order_by(Body.region_code, Body.id).limit(300)).all()
    form.parent_id.choices = select_choices([("", _("None"))] + [(str(b.id), b.display_name(locale)) for b in parents])
    form.region.render_kw = {"list": "edition-divisions"}  # the edition's divisions, offered as staff type
    return form


@bp.get("/<code>/manage")
@login_required
def manage(code: str):
    """An edition's management page (its operators and administrators): its bodies, found with the body picker,
    a form to add a body in its region, and (administrators) its operators."""
    edition = _run_or_403(code)
    return _manage_page(edition, _body_form(edition), OperatorForm(prefix="operator", formdata=None))


@bp.post("/<code>/bodies")
@login_required
def add_body(code: str):
    """An operator (or administrator) adds a body in the edition's region."""
    edition = _run_or_403(code)
    form = _body_form(edition)
    if form.validate():
        division = regions.region_by_path(form.region.data)
        parent_id = form.parent_id.data or ""
        parent = db.session.get(Body, int(parent_id)) if parent_id.isdigit() else None
        if division is None or not division.code.startswith(edition.prefix):  # administrators' bodies too
            form.region.errors.append(_("That region is not in this edition: choose one of its divisions."))
            return _manage_page(edition, form, OperatorForm(prefix="operator", formdata=None), 422)
        try:
            body = account_services.create_body(
                current_user, name=form.name.data, name_en=form.name_en.data, kind=form.kind.data,
                level=form.level.data, region=form.region.data, parent=parent, contact_email=form.contact_email.data)
        except DomainError as error:
            db.session.rollback()
            wrong = form.region if error.status_code == 403 else form.name  # outside the region, or a name taken
            wrong.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The body has been created."), "success")
            return redirect(url_for("accounts_staff.staff", body_id=body.id), code=303)
    return _manage_page(edition, form, OperatorForm(prefix="operator", formdata=None), 422)


@bp.get("/<code>/bodies")
@bp.get("/<code>/operators")
@bp.get("/<code>/operators/<int:user_id>/remove")
def form_address(code: str, user_id: int | None = None):  # noqa: ARG001 (the address's own part)
    """A form's address opened in the browser (reloaded after a refused form): the management page, not a 405."""
    return redirect(url_for("editions.manage", code=code), code=303)


@bp.post("/<code>/operators")
@login_required
def add_operator(code: str):
    """Administrators make an account an operator of the edition."""
    edition = _edition_or_404(code)
    form = OperatorForm(prefix="operator")
    if form.validate():
        user = account_services.find_user(form.username.data)
        try:
            if user is None:
                raise InvalidInput(_("No account has that username."))
            services.add_operator(current_user, edition, user)
        except DomainError as error:
            db.session.rollback()
            if error.status_code == 403:
                abort(403)
            form.username.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("%(name)s now operates this edition.", name=user.username), "success")
            return redirect(url_for("editions.manage", code=edition.code), code=303)
    if not services.can_run(current_user, edition):
        abort(403)
    return _manage_page(edition, _body_form(edition), form, 422)


@bp.post("/<code>/operators/<int:user_id>/remove")
@login_required
def remove_operator(code: str, user_id: int):
    """Administrators take an operator off the edition."""
    edition = _edition_or_404(code)
    user = db.get_or_404(User, user_id)
    try:
        services.remove_operator(current_user, edition, user)
    except DomainError as error:
        db.session.rollback()
        return redirect_with_error(error, url_for("editions.manage", code=edition.code))
    db.session.commit()
    flash(_("%(name)s no longer operates this edition.", name=user.username), "success")
    return redirect(url_for("editions.manage", code=edition.code), code=303)
