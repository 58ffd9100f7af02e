"""Load the project's own demo data (demo.content) into the database through the services."""
import random
from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from accounts import regions
from accounts import services as accounts_services
from accounts.models import Body, Role, User
from campaigns import services as campaign_services
from campaigns.models import Campaign, Category
from core.extensions import db
from core.models import utcnow
from demo import content
from demo.catalogue import edition_logo
from demo.draft import DRAFT_REPORT_INTRODUCTION, decision_for
from demo.history import import_history
from demo.outcomes import add_outcomes
from drafts import feedback, parsing
from drafts import services as draft_services
from drafts.models import DraftComment
from editions import services as edition_services
from suggestions import clustering, ratings
from suggestions import services as suggestion_services
from suggestions.cluster_models import Cluster
from suggestions.models import STAFF_DECISIONS, Suggestion, Vote

DEMO_PASSWORD = "jianyan-demo"
N_CITIZENS = 600
DECISIONS = list(STAFF_DECISIONS)


def database_is_empty() -> bool:
    """True when no body, user or campaign exists yet."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0 and \
        db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def load_demo(seed: int = 2026, n_proposals: int = 2400, progress: bool = True) -> dict:
    """Create bodies, staff, citizens, campaigns, proposals, votes and replies, and cluster each campaign's
    near-duplicates; returns counts."""
    rng = random.Random(seed)
    now = utcnow()
    password_hash = accounts_services._hasher.hash(DEMO_PASSWORD)  # one hash: 600 argon2 runs would take a minute

    admin = User(username="admin", display_name="平台管理员", password_hash=password_hash, role=Role.ADMIN)
    moderator = User(username="moderator", display_name="内容审核员", password_hash=password_hash,
                     role=Role.MODERATOR)
    db.session.add_all([admin, moderator])

    categories = {c["code"]: Category(code=c["code"], name=c["name"], name_en=c["name_en"])
                  for c in content.CATEGORIES}
    db.session.add_all(categories.values())

    regions.load_divisions()  # China's divisions, and the demo's fictional province beside them
    regions.load_divisions(content.DIVISIONS)
    for spec in content.EDITIONS:
        edition = edition_services.create_edition(None, **spec)
        edition_services.set_logo(None, edition, "logo.svg", edition_logo(spec["short_name"][0], spec["colour"]),
                                  current_app.config["EDITION_LOGO_DIR"])
    bodies: dict[str, Body] = {}
    staff: dict[str, User] = {}
    for spec in content.BODIES:
        body = accounts_services.create_body(
            None, name=spec["name"], name_en=spec.get("name_en", ""), kind=spec["kind"], level=spec["level"],
            region=spec["region"], parent=bodies.get(spec["parent"]) if spec.get("parent") else None)
        bodies[spec["key"]] = body
        user = User(username=f"staff_{spec['key'].replace('-', '_')}"[:32], display_name=f"{spec['name']}工作人员"[:40],
                    password_hash=password_hash, role=Role.STAFF)
        db.session.add(user)
        accounts_services.add_member(None, user, body, "manager")
        staff[spec["key"]] = user

    citizens = []
    for spec in content.generate_citizens(seed, N_CITIZENS):
        citizens.append(User(username=spec["username"], display_name=spec["display_name"],
                             password_hash=password_hash, role=Role.CITIZEN))
    db.session.add_all(citizens)
    db.session.flush()

    campaigns: dict[str, Campaign] = {}
    closing: list[tuple[Campaign, User, object]] = []
    for spec in content.CAMPAIGNS:
        owner = staff[spec["body"]]
        opens_at = now - timedelta(days=spec["opened_days_ago"])
        closes_in = spec["closes_in_days"]
        closes_at = now + timedelta(days=closes_in) if closes_in is not None else None
        campaign = campaign_services.create_campaign(
            owner, bodies[spec["body"]], title=spec["title"], theme=spec["theme"],
            description=spec["description"], categories=[categories[c] for c in spec["categories"]],
            region_scope=spec["region_scope"], opens_at=opens_at,
            closes_at=closes_at if closes_in is None or closes_in > 0 else None,
            allow_oppose=spec["allow_oppose"], open_now=spec["status"] != "draft")
        campaign.created_at = opens_at
        campaigns[spec["key"]] = campaign
        if spec["status"] in ("closed", "archived"):
            closing.append((campaign, owner, spec, closes_at))

    proposals = content.generate_proposals(seed, n_proposals)
    suggestions: list[Suggestion] = []
    with click.progressbar(proposals, label="Proposals", show_pos=True, hidden=not progress) as bar:
        for spec in bar:
            campaign = campaigns[spec["campaign"]]
            created = now - timedelta(days=spec["days_ago"])
            suggestions.append(suggestion_services.submit_suggestion(
                citizens[spec["author"] % len(citizens)], campaign, title=spec["title"], body=spec["body"],
                category=categories[spec["category"]], message_type=spec["message_type"], now=created))

    votes = _add_votes(rng, suggestions, citizens, now)
    staff_by_body = {b.id: staff[k] for k, b in bodies.items()}
    replies = _add_replies(rng, suggestions, staff_by_body=staff_by_body, now=now, progress=progress)
    outcomes = add_outcomes(staff_by_body)
    history = import_history(bodies["city-suggest"], seed).imported

    for campaign, owner, spec, closes_at in closing:
        campaign_services.close_campaign(owner, campaign, closes_at or now)
        if spec["status"] == "archived":
            campaign_services.archive_campaign(owner, campaign)
    suggestion_services.recount_votes()
    drafted = _add_draft(campaigns["moe-after-school-draft"], staff["moe"], now)
    db.session.flush()
    clusters = sum(clustering.cluster_campaign(campaign) for campaign in campaigns.values())
    decided = _decide_draft(campaigns["moe-after-school-draft"], staff["moe"])
    return {"bodies": len(bodies), "campaigns": len(campaigns), "citizens": len(citizens),
            "proposals": len(suggestions), "votes": votes, "replies": replies, "outcomes": outcomes,
            "clusters": clusters, "board history messages (2016-2025)": history,
            "draft comments tied to articles": drafted, "draft decisions": decided}


def _decide_draft(campaign: Campaign, owner: User) -> int:
    """The ministry's decisions on the clusters of comments its version 2 answered, and the published report."""
    draft = draft_services.draft_of(campaign)
    comments = sa.select(DraftComment.suggestion_id).where(DraftComment.draft_id == draft.id)
    decided = 0
    for cluster in db.session.scalars(sa.select(Cluster).where(Cluster.campaign_id == campaign.id,
                                                               Cluster.representative_id.in_(comments))
                                      .order_by(Cluster.id)):
        representative = cluster.representative
        chosen = decision_for(representative.title, representative.body)
        if chosen is None or not representative.is_public:
            continue
        article_id = db.session.get(DraftComment, representative.id).article_id
        feedback.decide_cluster(owner, draft, cluster, article_id=article_id, decision=chosen[0], reason=chosen[1])
        decided += 1
    if decided:
        feedback.publish_report(owner, draft, DRAFT_REPORT_INTRODUCTION)
    return decided


def _add_draft(campaign: Campaign, owner: User, now) -> int:
    """The ministry's draft as a real draft: version 1 (征求意见稿) as consulted on, its comments tied to the
    articles they name, then version 2 (修改稿) drafted after the consultation closed."""
    folder = Path(__file__).parent / "drafts"
    first = parsing.parse_text((folder / "after_school_v1.md").read_text(encoding="utf-8"))
    draft = draft_services.create_draft(owner, campaign, first, source_name="after_school_v1.md", note="征求意见稿")
    draft.current_version.created_at = campaign.opens_at
    tied = draft_services.link_comments_by_mention(draft)
    second = parsing.parse_text((folder / "after_school_v2.md").read_text(encoding="utf-8"))
    version = draft_services.import_version(owner, draft, second, source_name="after_school_v2.md", note="修改稿")
    version.created_at = min(now, (campaign.closes_at or now) + timedelta(days=20))
    return tied


def _add_votes(rng: random.Random, suggestions: list[Suggestion], citizens: list[User], now) -> int:
    """Thousands of supports (and some opposes where allowed), skewed so a few proposals are popular.

    Vote rows are inserted directly (they are the truth); counters are rebuilt by recount_votes().
    """
    rows = []
    for suggestion in suggestions:
        popularity = int(rng.paretovariate(1.3)) - 1
        n = min(len(citizens) - 1, popularity * 2 + rng.randint(0, 3))
        voters = rng.sample(citizens, n)
        age = max((now - suggestion.created_at).total_seconds(), 60)
        for voter in voters:
            if voter.id == suggestion.author_id:
                continue
            value = -1 if suggestion.campaign.allow_oppose and rng.random() < 0.15 else 1
            at = suggestion.created_at + timedelta(seconds=rng.uniform(30, age))
            rows.append({"suggestion_id": suggestion.id, "user_id": voter.id, "value": value, "created_at": at})
    db.session.execute(sa.insert(Vote), rows)
    return len(rows)


def _add_replies(rng: random.Random, suggestions: list[Suggestion], staff_by_body: dict, now,
                 progress: bool) -> int:
    """Accept about half the proposals and reply to most of those, with every decision represented."""
    count = 0
    chosen = [s for s in suggestions if s.status == "published" and rng.random() < 0.55]
    with click.progressbar(chosen, label="Replies  ", show_pos=True, hidden=not progress) as bar:
        for i, suggestion in enumerate(bar):
            officer = staff_by_body[suggestion.campaign.body_id]
            age_days = (now - suggestion.created_at).total_seconds() / 86400
            accepted = suggestion.created_at + timedelta(days=min(age_days * 0.2, rng.uniform(0.5, 3)))
            suggestion_services.accept_suggestion(officer, suggestion, now=accepted)
            if age_days < 2 or rng.random() < 0.25:
                continue  # accepted, reply still being prepared
            decision = DECISIONS[i % len(DECISIONS)] if i < 50 else rng.choice(DECISIONS)
            spec = {"title": suggestion.title, "body": suggestion.body, "category": suggestion.category.code,
                    "campaign": None, "message_type": suggestion.message_type}
            replied = accepted + timedelta(days=min(age_days * 0.7, rng.uniform(2, 25)))
            suggestion_services.reply_to_suggestion(
                officer, suggestion, decision=decision,
                content=content.generate_reply(rng.randrange(1 << 30), spec, str(decision),
                                               office=suggestion.campaign.body.name), now=replied)
            count += 1
            _add_rating(rng, suggestion, decision, replied, now)
            if rng.random() < 0.3:
                suggestion_services.close_suggestion(officer, suggestion, now=replied + timedelta(days=3))
    return count


# (satisfied, basically, unsatisfied) weights by decision: adopted replies please more often.
RATING_WEIGHTS = {"adopted": (70, 22, 8), "partly_adopted": (50, 35, 15), "under_study": (30, 40, 30),
                  "explained": (35, 40, 25), "not_adopted": (15, 35, 50)}
UNSATISFIED_REASONS = ["off_point", "too_slow", "attitude"]


def _add_rating(rng: random.Random, suggestion: Suggestion, decision: str, replied, now) -> None:
    """About half the authors rate the reply, a day or a few later (never "not solved": no demo reopenings)."""
    if rng.random() < 0.5:
        return
    satisfaction = rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], RATING_WEIGHTS[decision])[0]
    reasons = [rng.choice(UNSATISFIED_REASONS)] if satisfaction == "unsatisfied" else []
    rating = ratings.rate_reply(suggestion.author, suggestion, satisfaction, reasons)
    rating.created_at = min(now, replied + timedelta(days=rng.uniform(0.2, 5)))
