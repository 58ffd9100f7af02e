"""Campaign lifecycle services and list queries. Services flush; the caller commits."""
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from accounts.models import Body, User
from accounts.permissions import require_body_manager
from campaigns.models import Campaign, CampaignStatus, Category, Phase, campaign_categories
from core import audit
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.models import utcnow
from core.text import clean_text

MIN_REPORT_HIDE_THRESHOLD = 3  # fewer reports hide a proposal only where an administrator set it so


def _check_report_hide_threshold(actor: User | None, value: int, current: int | None) -> None:
    """Only an administrator lets fewer than ``MIN_REPORT_HIDE_THRESHOLD`` reports hide a proposal (0, never
    hiding automatically, is anyone's choice); a lower value an administrator set may stay when others edit."""
    if 0 < value < MIN_REPORT_HIDE_THRESHOLD and value != current and not (actor is not None and actor.is_admin):
        raise InvalidInput(_l("Only an administrator may let fewer than %(n)d reports hide a proposal.",
                              n=MIN_REPORT_HIDE_THRESHOLD))


def _checked_fields(*, title: str, theme: str, description: str, categories: list[Category], region_scope: str,
                    opens_at: datetime, closes_at: datetime | None, allow_oppose: bool, screening: bool,
                    reply_working_days: int = 10, investigation_working_days: int = 20,
                    support_threshold: int | None = None, support_window_days: int | None = None,
                    max_extensions: int = 1, max_extension_working_days: int = 15,
                    report_hide_threshold: int = 3, phone_to_submit: bool = False,
                    phone_to_vote: bool = False) -> dict:
    """Validate and normalise a campaign's editable fields (shared by create and update)."""
    if not categories:
        raise InvalidInput(_l("Choose at least one category."))
    if closes_at is not None and closes_at <= opens_at:
        raise InvalidInput(_l("The closing time must be after the opening time."))
    if not 1 <= (reply_working_days or 0) <= 60:
        raise InvalidInput(_l("The reply deadline is 1 to 60 working days."))
    if not reply_working_days <= (investigation_working_days or 0) <= 120:
        raise InvalidInput(_l("The deadline with investigation is at least the usual one and at most 120 working "
                              "days."))
    if support_threshold is not None and not 1 <= support_threshold <= 10_000_000:
        raise InvalidInput(_l("The support threshold is a number of supports from 1 upwards."))
    if support_window_days is not None and (support_threshold is None or not 1 <= support_window_days <= 3650):
        raise InvalidInput(_l("The threshold window is 1 to 3,650 days, and needs a threshold."))
    if max_extensions is None or not 0 <= max_extensions <= 5:
        raise InvalidInput(_l("A proposal's deadline may be extended 0 to 5 times."))
    if max_extension_working_days is None or not 1 <= max_extension_working_days <= 60:
        raise InvalidInput(_l("One extension adds 1 to 60 working days."))
    if report_hide_threshold is None or not 0 <= report_hide_threshold <= 1000:
        raise InvalidInput(_l("The number of reports that hides a proposal is 0 (never) to 1,000."))
    return dict(
        title=clean_text(title, field=_l("Title"), max_length=120),
        theme=clean_text(theme, field=_l("Theme"), max_length=120, min_length=0),
        description=clean_text(description, field=_l("Description"), max_length=5000, min_length=0,
                               multiline=True),
        categories=list(categories),
        region_scope=clean_text(region_scope, field=_l("Region"), max_length=80, min_length=0),
        opens_at=opens_at, closes_at=closes_at, allow_oppose=allow_oppose, screening=screening,
        reply_working_days=reply_working_days, investigation_working_days=investigation_working_days,
        support_threshold=support_threshold, support_window_days=support_window_days,
        max_extensions=max_extensions, max_extension_working_days=max_extension_working_days,
        report_hide_threshold=report_hide_threshold, phone_to_submit=bool(phone_to_submit),
        phone_to_vote=bool(phone_to_vote))


def create_campaign(actor: User, body: Body, *, open_now: bool = False, **fields) -> Campaign:
    """Create a campaign for ``body`` (a draft unless ``open_now``); managers of that body only.

    ``fields``: title, theme, description, categories, region_scope, opens_at, closes_at, allow_oppose, screening.
    """
    require_body_manager(actor, body)
    fields.setdefault("screening", False)
    checked = _checked_fields(**fields)
    _check_report_hide_threshold(actor, checked["report_hide_threshold"], None)
    campaign = Campaign(body=body, status=CampaignStatus.DRAFT, created_by_id=actor.id if actor else None,
                        **checked)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, "campaign.create", campaign, body_id=body.id)
    if open_now:
        open_campaign(actor, campaign)
    return campaign


def update_campaign(actor: User, campaign: Campaign, **fields) -> Campaign:
    """Change a campaign's title, texts, categories, times or options; managers of its body only."""
    require_body_manager(actor, campaign.body_id)
    checked = _checked_fields(**fields)
    _check_report_hide_threshold(actor, checked["report_hide_threshold"], campaign.report_hide_threshold)
    changed = sorted(k for k, v in checked.items() if getattr(campaign, k) != v)
    for key in changed:
        setattr(campaign, key, checked[key])
    audit.record(actor, "campaign.update", campaign, body_id=campaign.body_id, changed=changed)
    return campaign


def _move(actor: User, campaign: Campaign, allowed_from: set[str], to: CampaignStatus, action: str) -> None:
    require_body_manager(actor, campaign.body_id)
    if campaign.status not in allowed_from:
        raise Conflict(_l("This campaign cannot change from its current state to that one."))
    previous = campaign.status
    campaign.status = to
    audit.record(actor, action, campaign, body_id=campaign.body_id, previous=previous)


def open_campaign(actor: User, campaign: Campaign, now: datetime | None = None) -> None:
    """Open a draft (or reopen a closed) campaign for submissions; its closing time must lie ahead."""
    if campaign.closes_at is not None and campaign.closes_at <= (now or utcnow()):
        raise Conflict(_l("Set a closing time in the future (edit the campaign) before opening it."))
    _move(actor, campaign, {CampaignStatus.DRAFT, CampaignStatus.CLOSED}, CampaignStatus.OPEN, "campaign.open")


def close_campaign(actor: User, campaign: Campaign, now: datetime) -> None:
    """Stop taking submissions now; proposals already in keep being handled."""
    _move(actor, campaign, {CampaignStatus.OPEN}, CampaignStatus.CLOSED, "campaign.close")
    if campaign.closes_at is None or campaign.closes_at > now:
        campaign.closes_at = now


def archive_campaign(actor: User, campaign: Campaign) -> None:
    """Archive a closed campaign: it stays readable but leaves the default lists."""
    _move(actor, campaign, {CampaignStatus.CLOSED, CampaignStatus.DRAFT}, CampaignStatus.ARCHIVED,
          "campaign.archive")


def phase_condition(phase: str, now: datetime, closing_soon_days: int):
    """SQL condition matching ``Campaign.phase(now) == phase`` (for list filters)."""
    is_open = sa.and_(Campaign.status == CampaignStatus.OPEN, Campaign.opens_at <= now,
                      sa.or_(Campaign.closes_at.is_(None), Campaign.closes_at > now))
    soon = now + timedelta(days=closing_soon_days)
    if phase == Phase.OPEN:  # "open" in a list includes the ones closing soon
        return is_open
    if phase == Phase.CLOSING_SOON:
        return sa.and_(is_open, Campaign.closes_at.is_not(None), Campaign.closes_at <= soon)
    if phase == Phase.UPCOMING:
        return sa.and_(Campaign.status == CampaignStatus.OPEN, Campaign.opens_at > now)
    if phase == Phase.CLOSED:
        return sa.or_(Campaign.status == CampaignStatus.CLOSED,
                      sa.and_(Campaign.status == CampaignStatus.OPEN, Campaign.closes_at <= now))
    if phase == Phase.ARCHIVED:
        return Campaign.status == CampaignStatus.ARCHIVED
    return Campaign.status.not_in((CampaignStatus.DRAFT, CampaignStatus.ARCHIVED))


def campaigns_query(now: datetime, *, phase: str = "", body_id: int | None = None, level: str = "",
                    region: str = "", category_code: str = "", closing_soon_days: int = 7,
                    divisions: str = "", divisions_path: str = "") -> sa.Select:
    """Public campaigns matching the filters, in the order a visitor wants them. ``divisions`` and
    ``divisions_path``: an edition's prefix of division codes and its region's full name (the campaigns of bodies
    in its region, and those about its region run by a body above it, such as a province's about one city)."""
    query = (sa.select(Campaign).join(Body, Campaign.body_id == Body.id).options(contains_eager(Campaign.body))
             .where(phase_condition(phase, now, closing_soon_days)))
    if body_id:
        query = query.where(Campaign.body_id == body_id)
    if level:
        query = query.where(Body.level == level)
    if region:
        query = query.where(sa.or_(Body.region.startswith(region), Campaign.region_scope.startswith(region)))
    if divisions:
        query = query.where(sa.or_(Body.region_code.startswith(divisions, autoescape=True),
                                   Campaign.region_scope.startswith(divisions_path or "\x00", autoescape=True)))
    if category_code:
        query = query.where(Campaign.id.in_(
            sa.select(campaign_categories.c.campaign_id)
            .join(Category, Category.id == campaign_categories.c.category_id)
            .where(Category.code == category_code)))
    is_open = phase_condition(Phase.OPEN, now, closing_soon_days)
    # Open campaigns first, closing soonest first (standing ones after them); then the most recently closed.
    return query.order_by(sa.case((is_open, 0), else_=1),
                          sa.case((is_open, Campaign.closes_at)).asc().nulls_last(),
                          Campaign.closes_at.desc().nulls_last(), Campaign.id.desc())
