"""`flask demo load` fills an empty database with the project's own, deterministic demo content,
and the home page then lists the demo campaigns (what `make run` serves)."""
import re
from collections import Counter

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from accounts.models import Body
from app import create_app
from campaigns.models import Campaign
from core.extensions import db
from demo import content
from suggestions.models import STAFF_DECISIONS, Cluster, Rating, Reply, Suggestion, Vote
from tests.conftest import base_config


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """One migrated SQLite database loaded through the real CLI commands (shared by this module's tests)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        db.session.remove()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    return app


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_demo_has_the_promised_volume_and_variety(demo_app):
    with demo_app.app_context():
        assert 18 <= count(Body) <= 25
        assert set(db.session.scalars(sa.select(Body.level).distinct())) == {"national", "provincial", "municipal",
                                                                             "county"}
        assert 8 <= count(Campaign) <= 12
        from campaigns.models import Phase
        from core.models import utcnow
        phases = {c.phase(utcnow()) for c in db.session.scalars(sa.select(Campaign))}
        assert phases == set(Phase)  # every stage of a campaign's life is on show
        assert count(Suggestion) >= 2000
        assert count(Vote) >= 3000
        types = Counter(db.session.scalars(sa.select(Suggestion.message_type)))
        assert set(types) == {"suggestion", "complaint", "help", "question", "thanks"}
        live = sa.select(Suggestion.id).where(Suggestion.source == "")  # not the imported board history
        decisions = set(db.session.scalars(sa.select(Reply.decision).where(Reply.suggestion_id.in_(live))))
        assert decisions == {d.value for d in STAFF_DECISIONS}
        # About half the replies are rated, with every level of satisfaction.
        rated = Counter(db.session.scalars(sa.select(Rating.satisfaction)))
        assert set(rated) == {"satisfied", "basically_satisfied", "unsatisfied"}
        live_replies = db.session.scalar(sa.select(sa.func.count()).select_from(Reply)
                                         .where(Reply.suggestion_id.in_(live)))
        assert 0.3 < sum(rated.values()) / live_replies < 0.7
        # Counters agree with the vote rows they are derived from.
        mismatched = db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion).where(
            Suggestion.support_count != sa.select(sa.func.count()).select_from(Vote).where(
                Vote.suggestion_id == Suggestion.id, Vote.value == 1).scalar_subquery()))
        assert mismatched == 0
        # The generator's rewritten and re-posted proposals come out clustered.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Cluster).where(Cluster.size > 1)) >= 50


def test_demo_tracks_adopted_proposals_to_policy_at_every_stage(demo_app):
    """从建议到政策 is not empty on a fresh install: outcomes at every stage, with dated milestones in order."""
    from outcomes.models import PolicyOutcome, Stage
    with demo_app.app_context():
        outcomes = list(db.session.scalars(sa.select(PolicyOutcome)))
        assert len(outcomes) >= 5 and {o.stage for o in outcomes} == {s.value for s in Stage}
        for outcome in outcomes:
            assert outcome.suggestions and all(s.replies[0].decision == "adopted" for s in outcome.suggestions)
            days = [m.happened_on for m in outcome.milestones]
            assert days and days == sorted(days)
            assert (outcome.document_number != "") == (outcome.stage in ("issued", "implementing", "completed"))
        title = outcomes[0].title
    page = demo_app.test_client().get("/outcomes/").get_data(as_text=True)
    assert title in page and "暂无" not in page


def test_demo_history_tells_a_decade_s_story_on_the_dashboard(demo_app):
    """A decade of one body's board, imported as `flask analytics import-messages` does: handling time falls,
    messages grow, suggestions take a larger share (what the figures pages show on a fresh install)."""
    from demo.history import MEAN_HANDLING_DAYS, SOURCE, YEARS
    with demo_app.app_context():
        imported = db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)
                                     .where(Suggestion.source == SOURCE))
        assert imported >= 1000
        rows = db.session.execute(sa.select(sa.extract("year", Suggestion.created_at), Suggestion.handling_days,
                                            Suggestion.message_type).where(Suggestion.source == SOURCE)).all()
        by_year = {year: [r for r in rows if int(r[0]) == year] for year in YEARS}
        mean_days = {y: sum(r[1] for r in rs if r[1] is not None) / sum(r[1] is not None for r in rs)
                     for y, rs in by_year.items()}
        assert mean_days[2016] > 2 * mean_days[2025]
        assert abs(mean_days[2016] - MEAN_HANDLING_DAYS[0]) < 0.3 * MEAN_HANDLING_DAYS[0]
        share = {y: sum(r[2] == "suggestion" for r in rs) / len(rs) for y, rs in by_year.items()}
        assert share[2025] > share[2016] + 0.15
        assert len(by_year[2025]) > len(by_year[2016])
    page = demo_app.test_client().get("/analytics/?year=2016&year_to=2025").get_data(as_text=True)
    assert 'id="messages_per_year"' in page and "<th scope=\"row\">2016</th>" in page


def test_home_page_lists_demo_campaigns(demo_app):
    client = demo_app.test_client()
    page = client.get("/").get_data(as_text=True)
    open_titles = [c["title"] for c in content.CAMPAIGNS if c["status"] == "open"]
    assert open_titles and all(title in page for title in open_titles[:6])


def test_demo_pages_render(demo_app):
    client = demo_app.test_client()
    with demo_app.app_context():
        campaign_ids = list(db.session.scalars(sa.select(Campaign.id).where(Campaign.status != "draft")))
        draft = db.session.scalar(sa.select(Campaign.id).where(Campaign.status == "draft"))
        replied = db.session.scalar(sa.select(Suggestion.id).where(Suggestion.status == "replied").limit(1))
    for campaign_id in campaign_ids:
        assert client.get(f"/campaigns/{campaign_id}?sort=supported").status_code == 200
    assert client.get(f"/campaigns/{draft}").status_code == 404  # only its body's staff see a draft
    assert client.get(f"/suggestions/{replied}").status_code == 200
    with demo_app.app_context():
        biggest = db.session.scalars(sa.select(Cluster).order_by(Cluster.size.desc()).limit(1)).one()
    page = client.get(f"/suggestions/clusters?campaign={biggest.campaign_id}").get_data(as_text=True)
    assert f"/suggestions/clusters/{biggest.id}" in page
    assert client.get(f"/suggestions/clusters/{biggest.id}").status_code == 200


def test_content_is_deterministic_and_not_copied():
    first = content.generate_proposals(7, 300)
    assert first == content.generate_proposals(7, 300)
    assert first != content.generate_proposals(8, 300)
    near = [p for p in content.generate_proposals(2026, 2400) if p["near_duplicate_of"] is not None]
    assert len(near) >= 200  # deliberate near-duplicates for the clustering work


def test_the_demo_proposals_read_the_same_masked():
    """The demo's texts hold no personal data, so masking leaves every one of them as written (the demo looks
    the same to everyone); its replies keep their office lines."""
    from core.privacy import find_personal_data
    from demo.replies import generate_reply

    proposals = content.generate_proposals(1)
    found = [(p["title"], f.kind) for p in proposals for text in (p["title"], p["body"]) for f in find_personal_data(text)]
    assert found == []
    replies = [generate_reply(1, p, "adopted") for p in proposals[:300]]
    assert not [r for r in replies if find_personal_data(r, official=True)]


def test_a_demo_reply_speaks_for_the_body_that_gives_it():
    """A reply written for a known body never names another local office as the one that studied the proposal
    (the traffic police's reply said 青溪县城市管理局高度重视)."""
    from demo.replies import _reply_office, generate_reply

    proposals = content.generate_proposals(1)[:300]
    guessed = {_reply_office(p["title"] + p["body"], p.get("category"), None)[0] for p in proposals} - {"我们"}
    assert guessed  # the proposals do name places that point to other offices
    for i, proposal in enumerate(proposals):
        reply = generate_reply(i, proposal, "adopted", office="青溪县公安局交通管理大队")
        assert not [name for name in guessed if name in reply], reply


def test_a_demo_reply_that_declines_says_how_it_was_checked_once():
    """A newcomer read 经实地核查和研究论证，经现场核查，…: the reply's opening and its reason both said how the
    matter was checked."""
    from demo.replies import generate_reply

    proposals = content.generate_proposals(1)[:400]
    replies = [generate_reply(i, p, "not_adopted") for i, p in enumerate(proposals)]
    assert {p["category"] for p in proposals} >= {"environment", "safety"}
    assert not [r for r in replies if len(re.findall(r"经(?:现场|实地)(?:核查|勘查)", r)) > 1 or "因经" in r]


def test_no_demo_cluster_holds_one_problem_at_two_places(demo_app):
    """Issue 13: a cluster never mixes two places of one kind (two roads, two estates) that neither text of the
    pair mentions of the other (``places.places_conflict``), for any two members, not only with the leader."""
    from itertools import combinations

    from suggestions.cluster_models import ClusterMember
    from suggestions.places import places_conflict
    from suggestions.similarity_index import text_of

    with demo_app.app_context():
        rows = db.session.execute(sa.select(ClusterMember.cluster_id, Suggestion.title, Suggestion.body)
                                  .join(Suggestion, Suggestion.id == ClusterMember.suggestion_id)
                                  .join(Cluster, Cluster.id == ClusterMember.cluster_id)
                                  .where(Cluster.size > 1)).all()
    members: dict[int, list[str]] = {}
    for cluster_id, title, body in rows:
        members.setdefault(cluster_id, []).append(text_of(title, body))
    mixed = [(cluster_id, a[:30], b[:30]) for cluster_id, texts in members.items()
             for a, b in combinations(texts, 2) if places_conflict(a, b)]
    assert len(members) >= 50 and mixed == []


def test_demo_has_a_draft_in_two_versions_with_comments_decisions_and_a_report(demo_app):
    from drafts import services as draft_services
    from drafts.feedback import feedback_report
    from drafts.models import Draft
    client = demo_app.test_client()
    with demo_app.app_context():
        draft = db.session.scalar(sa.select(Draft))
        assert [v.note for v in draft.versions] == ["征求意见稿", "修改稿"]
        counts = draft_services.comment_counts(draft)
        assert counts[None] > 0 and sum(1 for article_id in counts if article_id) >= 10
        report = feedback_report(draft)
        assert draft.report_published_at is not None and report.participants > 50
        assert all(report.decisions[decision] for decision in ("adopted", "partly", "not_adopted"))
        article_id = next(a for a in counts if a)
        draft_id = draft.id
    for path in (f"/drafts/{draft_id}", f"/drafts/{draft_id}?version=1", f"/drafts/{draft_id}/changes",
                 f"/drafts/{draft_id}/articles/{article_id}", f"/drafts/{draft_id}/whole",
                 f"/drafts/{draft_id}/report", f"/drafts/{draft_id}/report.json"):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/drafts/{draft_id}/summary").status_code in (302, 401)  # staff only
