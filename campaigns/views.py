"""Public campaign pages and staff campaign management."""
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from accounts.models import BODY_LEVEL_LABELS, Body, MembershipRole
from accounts.permissions import can_act_for_body, can_manage_body, operated_prefixes
from campaigns import services
from campaigns.forms import CampaignFilterForm, CampaignForm
from campaigns.models import PHASE_LABELS, Campaign, Category, Phase
from core.errors import DomainError
from core.extensions import db
from core.forms import select_choices
from core.models import utcnow
from core.params import page_number
from core.web import redirect_with_error
from drafts import services as draft_services
from suggestions.queries import public_suggestions_page

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
SORTS = ("newest", "supported")


def home():
    """The front page: campaigns taking proposals now, then the latest closed ones, and the local editions; on an
    edition's own host name, that edition's home page."""
    from editions import services as editions  # editions build on campaigns
    from editions import views as edition_views

    edition = editions.edition_for_host(request.host)
    if edition is not None:
        return edition_views.edition_home(edition)
    now = utcnow()
    soon = current_app.config["CLOSING_SOON_DAYS"]
    open_campaigns = db.session.scalars(
        services.campaigns_query(now, phase=Phase.OPEN, closing_soon_days=soon).limit(12)).all()
    closed_campaigns = db.session.scalars(
        services.campaigns_query(now, phase=Phase.CLOSED, closing_soon_days=soon).limit(4)).all()
    return render_template("campaigns/home.html", open_campaigns=open_campaigns,
                           closed_campaigns=closed_campaigns, now=now, phase_labels=PHASE_LABELS,
                           editions=editions.all_editions())


@bp.get("/")
def index():
    now = utcnow()
    locale = str(get_locale())
    form = CampaignFilterForm(request.args)
    bodies = db.session.scalars(sa.select(Body).order_by(Body.level, Body.id)).all()
    categories = db.session.scalars(sa.select(Category).order_by(Category.id)).all()
    form.body.choices = select_choices([("", _("All"))] + [(str(b.id), b.display_name(locale)) for b in bodies])
    form.level.choices = select_choices([("", _("All"))] + [(k, str(v)) for k, v in BODY_LEVEL_LABELS.items()])
    form.category.choices = select_choices([("", _("All"))] + [(c.code, c.display_name(locale)) for c in categories])
    form.validate()
    filters = {name: (form[name].data or "") if not form[name].errors else ""
               for name in ("phase", "body", "level", "category")}
    query = services.campaigns_query(
        now, phase=filters["phase"], body_id=int(filters["body"]) if filters["body"] else None,
        level=filters["level"], region=(form.region.data or "").strip()[:80], category_code=filters["category"],
        closing_soon_days=current_app.config["CLOSING_SOON_DAYS"])
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("campaigns/index.html", form=form, page=page, now=now, phase_labels=PHASE_LABELS)


@bp.get("/<int:campaign_id>")
def detail(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status == "draft" and not can_act_for_body(current_user, campaign.body_id):
        abort(404)
    sort = request.args.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    page = public_suggestions_page(campaign.id, sort, page_number(), current_app.config["PAGE_SIZE"])
    return render_template("campaigns/detail.html", campaign=campaign, page=page, sort=sort, now=utcnow(),
                           phase_labels=PHASE_LABELS, is_manager=_is_manager_of(campaign),
                           draft=draft_services.draft_of(campaign))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    bodies = _bodies_for(current_user)
    if not bodies:
        abort(403)
    locale = str(get_locale())
    form = CampaignForm()
    form.body_id.choices = select_choices((b.id, b.display_name(locale)) for b in bodies)
    form.categories.choices = _category_choices()
    requested = request.form.get("body_id", "")
    if requested and requested not in {str(b.id) for b in bodies}:
        abort(403)  # staff of one body may not open campaigns for another
    return _save_or_show(form, None, lambda: services.create_campaign(
        current_user, db.session.get(Body, form.body_id.data), open_now=form.open_now.data, **_fields_from(form)),
        _("The campaign has been created."))


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def edit(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    if not _is_manager_of(campaign):
        abort(403)
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    form = CampaignForm(obj=campaign if request.method == "GET" else None)
    del form.body_id, form.open_now
    form.categories.choices = _category_choices()
    if request.method == "GET":
        form.categories.data = [c.id for c in campaign.categories]
        form.opens_at.data = campaign.opens_at.astimezone(tz).replace(tzinfo=None)
        form.closes_at.data = campaign.closes_at.astimezone(tz).replace(tzinfo=None) if campaign.closes_at else None
    return _save_or_show(form, campaign, lambda: services.update_campaign(
        current_user, campaign, **_fields_from(form)), _("The campaign has been updated."))


def _save_or_show(form: CampaignForm, campaign: Campaign | None, save, success: str):
    """On a valid post run ``save`` (a service returning the campaign), commit and go to the campaign;
    otherwise, or when the service refuses, show the form again with the reason."""
    if form.validate_on_submit():
        try:
            campaign = save()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("campaigns/form.html", form=form, campaign=campaign), status


def _category_choices() -> list[SelectChoice]:
    locale = str(get_locale())
    return select_choices((c.id, c.display_name(locale))
                          for c in db.session.scalars(sa.select(Category).order_by(Category.id)))


def _fields_from(form: CampaignForm) -> dict:
    """The service arguments from a validated campaign form (form times are Beijing time)."""
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dict(title=form.title.data, theme=form.theme.data, description=form.description.data,
                categories=db.session.scalars(sa.select(Category).where(Category.id.in_(form.categories.data))).all(),
                region_scope=form.region_scope.data, opens_at=_to_utc(form.opens_at.data, tz),
                closes_at=_to_utc(form.closes_at.data, tz), allow_oppose=form.allow_oppose.data,
                screening=form.screening.data, phone_to_submit=form.phone_to_submit.data,
                phone_to_vote=form.phone_to_vote.data,
                reply_working_days=10 if form.reply_working_days.data is None else form.reply_working_days.data,
                investigation_working_days=20 if form.investigation_working_days.data is None
                else form.investigation_working_days.data,
                support_threshold=form.support_threshold.data, support_window_days=form.support_window_days.data,
                **{name: form[name].default if form[name].data is None else form[name].data
                   for name in ("max_extensions", "max_extension_working_days", "report_hide_threshold")})


@bp.post("/<int:campaign_id>/<any(open, close, archive):action>")
@login_required
def change_status(campaign_id: int, action: str):
    campaign = db.get_or_404(Campaign, campaign_id)
    target = url_for("campaigns.detail", campaign_id=campaign.id)
    try:
        if action == "open":
            services.open_campaign(current_user, campaign, utcnow())
        elif action == "close":
            services.close_campaign(current_user, campaign, utcnow())
        else:
            services.archive_campaign(current_user, campaign)
    except DomainError as error:
        return redirect_with_error(error, target)
    db.session.commit()
    flash(_("The campaign's status has been updated."), "success")
    return redirect(target, code=303)


def _to_utc(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.replace(tzinfo=tz).astimezone(ZoneInfo("UTC")) if value else None


def _bodies_for(user) -> list[Body]:
    """The bodies whose campaigns ``user`` may run."""
    if user.is_admin:
        return db.session.scalars(sa.select(Body).order_by(Body.id)).all()
    managed = [m.body for m in user.memberships if m.role == MembershipRole.MANAGER]
    if prefixes := operated_prefixes(user):  # an edition's operators run every body in its region
        in_editions = db.session.scalars(sa.select(Body).where(sa.or_(
            *(Body.region_code.startswith(p, autoescape=True) for p in prefixes))).order_by(Body.region_code, Body.id))
        managed += [b for b in in_editions if b not in managed]
    return managed


def _is_manager_of(campaign: Campaign) -> bool:
    return can_manage_body(current_user, campaign.body_id)
