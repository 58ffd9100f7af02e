"""Factories that build test data through the real models (and services where a rule applies)."""
import itertools
from datetime import timedelta

from accounts import services as accounts_services
from accounts.models import Body, Role, User
from campaigns.models import Campaign, CampaignStatus, Category
from core.extensions import db
from core.models import utcnow
from suggestions import services as suggestion_services

PASSWORD = "lamp-post-river-7"  # passes the password policy (accounts/password_policy.py)
_seq = itertools.count(1)


def make_user(username: str | None = None, role: str = Role.CITIZEN, display_name: str = "") -> User:
    user = accounts_services.register_user(username or f"user{next(_seq)}", PASSWORD, display_name)
    user.role = role
    db.session.flush()
    return user


def make_body(name: str | None = None, level: str = "county", kind: str = "department",
              region: str = "江南省临川市青溪县", name_en: str = "") -> Body:
    return accounts_services.create_body(None, name=name or f"青溪县测试局{next(_seq)}", kind=kind,
                                         level=level, region=region, name_en=name_en)


def make_staff(body: Body, username: str | None = None, role: str = "staff") -> User:
    """A member of ``body``: "staff" handle its proposals, "manager" also runs its campaigns."""
    user = make_user(username or f"staff{next(_seq)}")
    accounts_services.add_member(None, user, body, role)
    return user


def make_category(code: str = "transport", name: str = "交通运输", name_en: str = "Transport") -> Category:
    category = db.session.query(Category).filter_by(code=code).one_or_none()
    if category is None:
        category = Category(code=code, name=name, name_en=name_en)
        db.session.add(category)
        db.session.flush()
    return category


def make_campaign(body: Body | None = None, *, title: str = "青溪县道路交通安全建议征集",
                  status: str = CampaignStatus.OPEN, allow_oppose: bool = True, screening: bool = False,
                  closes_in_days: int | None = 30, categories: list[Category] | None = None) -> Campaign:
    now = utcnow()
    body = body or make_body()
    campaign = Campaign(
        body=body, title=title, theme="道路交通安全", description="欢迎提出意见建议。",
        region_scope=body.region, opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=closes_in_days) if closes_in_days is not None else None,
        allow_oppose=allow_oppose, screening=screening, status=status,
        categories=categories or [make_category()])
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_suggestion(campaign: Campaign | None = None, author: User | None = None, *,
                    title: str = "建议在城南小学门口增设护学岗",
                    body: str = "每天上下学时段城南小学门口车辆拥堵，学生过马路很危险，建议增设护学岗并施划斑马线。",
                    message_type: str = "suggestion"):
    campaign = campaign or make_campaign()
    return suggestion_services.submit_suggestion(
        author or make_user(), campaign, title=title, body=body, category=campaign.categories[0],
        message_type=message_type)
