"""What the comments changed (issue 18): the drafting team's decision on each cluster of comments, linked to the
change it led to; the feedback report (意见采纳情况说明), public once published, printable and as open data."""
import json

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from drafts import feedback, parsing, services
from drafts.models import DraftDecision
from suggestions import clustering
from suggestions import services as suggestion_services
from suggestions.cluster_models import Cluster, ClusterMember
from suggestions.models import Suggestion
from tests.conftest import login
from tests.drafts.test_drafts import FIRST, SECOND, article, comment
from tests.factories import make_body, make_campaign, make_staff, make_user


@pytest.fixture
def decided_consultation(app):
    """A draft with comments on 第五条 (three alike, one apart) and one on the whole draft, clustered, then
    version 2 imported."""
    body = make_body("青溪县人民政府")
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body, title="青溪县河道管理办法（征求意见稿）征求意见")
    draft = services.create_draft(manager, campaign, parsing.parse_text(FIRST))
    mining = article(draft, "第五条")
    alike = [comment(draft, mining, title=f"采砂审批应当明确时段{n}") for n in range(3)]
    apart = comment(draft, mining, title="河道两岸应当禁止新建建筑物",
                    body="河道两岸五十米内应当禁止新建建筑物，已建的限期拆除。")
    whole = comment(draft, None, title="建议增加河长制的规定", body="建议在办法中增加河长制的规定，明确各级河长的职责。")
    db.session.commit()
    clustering.cluster_campaign(campaign)
    services.import_version(manager, draft, parsing.parse_text(SECOND))
    db.session.commit()
    return draft, manager, mining.article_id, alike, apart, whole


def cluster_of(suggestion) -> Cluster:
    return db.session.scalar(sa.select(Cluster).join(ClusterMember).where(
        ClusterMember.suggestion_id == suggestion.id))


def test_staff_decide_on_a_cluster_with_a_reason_linked_to_the_change_and_audited(decided_consultation):
    draft, manager, article_id, alike, _apart, _whole = decided_consultation
    cluster = cluster_of(alike[0])
    with pytest.raises(NotAllowed):
        feedback.decide_cluster(make_user(), draft, cluster, article_id=article_id, decision="adopted",
                                reason="已在第六条增加时段的规定。")
    for bad in ({"decision": "maybe"}, {"reason": "好"}, {"article_id": 999_999}):
        arguments = {"article_id": article_id, "decision": "adopted", "reason": "已在第六条增加时段的规定。"} | bad
        with pytest.raises(InvalidInput):
            feedback.decide_cluster(manager, draft, cluster, **arguments)
    record = feedback.decide_cluster(manager, draft, cluster, article_id=article_id, decision="adopted",
                                     reason="已在第六条增加时段的规定。")
    assert record.version_id == draft.current_version.id  # the change of version 2
    again = feedback.decide_cluster(manager, draft, cluster, article_id=article_id, decision="partly",
                                    reason="部分采纳：增加了时段，监督另行规定。")
    assert again.id == record.id and db.session.scalar(sa.select(sa.func.count()).select_from(DraftDecision)) == 1
    assert [e.detail["decision"] for e in db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "draft.decision").order_by(AuditLog.id))] == ["adopted",
                                                                                                "partly"]
    rejected = feedback.decide_cluster(manager, draft, cluster_of(_apart), article_id=article_id,
                                       decision="not_adopted", reason="第七条另有规定。")
    assert rejected.version_id is None  # not adopted: it changed nothing


def test_a_cluster_of_another_campaign_is_refused(decided_consultation):
    draft, manager, article_id, *_ = decided_consultation
    other = comment(services.create_draft(manager, make_campaign(draft.campaign.body, title="另一个征集活动"),
                                          parsing.parse_text(FIRST)), None)
    db.session.commit()
    clustering.cluster_campaign(other.campaign)
    with pytest.raises(InvalidInput):
        feedback.decide_cluster(manager, draft, cluster_of(other), article_id=None, decision="adopted",
                                reason="不是这个草案的意见。")


def test_the_report_is_public_once_published_with_its_figures_and_decisions(decided_consultation, client):
    draft, manager, article_id, alike, apart, whole = decided_consultation
    assert client.get(f"/drafts/{draft.id}/report").status_code == 404  # not published
    assert client.get(f"/drafts/{draft.id}/report.json").status_code == 404
    with pytest.raises(Conflict):  # nothing decided yet
        feedback.publish_report(manager, draft, "感谢大家的参与，现将意见采纳情况说明如下。")
    feedback.decide_cluster(manager, draft, cluster_of(alike[0]), article_id=article_id, decision="adopted",
                            reason="已在第六条增加时段的规定。")
    feedback.decide_cluster(manager, draft, cluster_of(whole), article_id=None, decision="not_adopted",
                            reason="河长制由专门的规定调整。")
    db.session.commit()
    login(client, manager)
    preview = client.get(f"/drafts/{draft.id}/report")
    assert preview.status_code == 200 and 'id="report-unpublished"' in preview.get_data(as_text=True)
    refused = client.post(f"/drafts/{draft.id}/report", data={"introduction": "太短"})
    assert refused.status_code == 422 and "太短" in refused.get_data(as_text=True)
    assert client.post(f"/drafts/{draft.id}/report", data={
        "introduction": "感谢大家的参与，现将意见采纳情况说明如下。"}).status_code == 303
    client.post("/accounts/logout")
    page = client.get(f"/drafts/{draft.id}/report").get_data(as_text=True)
    assert "感谢大家的参与" in page and "已在第六条增加时段的规定。" in page and "河长制由专门的规定调整。" in page
    data = json.loads(client.get(f"/drafts/{draft.id}/report.json").get_data(as_text=True))
    assert data["figures"]["participants"] == 5 and data["figures"]["comments"] == 5
    assert data["figures"]["comments_by_decision"] == {"adopted": 3, "partly": 0, "not_adopted": 1}
    by_article = {row["article"]: row["comments"] for row in data["articles"]}
    assert by_article[None] == 1 and by_article["第六条"] == 4  # 第五条 is 第六条 in version 2
    adopted = next(d for d in data["decisions"] if d["decision"] == "adopted")
    assert (adopted["article"], adopted["changed_in_version"], adopted["comments"]) == ("第六条", 2, 3)
    # the change page shows the decision under the change it led to; open data lists the report
    changes = client.get(f"/drafts/{draft.id}/changes").get_data(as_text=True)
    assert "已在第六条增加时段的规定。" in changes
    assert f"/drafts/{draft.id}/report.json" in client.get("/open-data/").get_data(as_text=True)


def test_a_decision_refused_on_the_article_page_keeps_what_was_typed(decided_consultation, client):
    draft, manager, article_id, alike, *_ = decided_consultation
    login(client, make_user("no_staff"))
    assert client.post(f"/drafts/{draft.id}/decisions", data={
        "cluster_id": cluster_of(alike[0]).id, "article_id": article_id, "decision": "adopted",
        "reason": "已采纳并修改了条文。"}).status_code == 403
    login(client, manager)
    response = client.post(f"/drafts/{draft.id}/decisions", data={
        "cluster_id": cluster_of(alike[0]).id, "article_id": article_id, "decision": "", "reason": "理由写好了但没选决定"})
    assert response.status_code == 422
    assert "理由写好了但没选决定" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftDecision)) == 0
    saved = client.post(f"/drafts/{draft.id}/decisions", data={
        "cluster_id": cluster_of(alike[0]).id, "article_id": article_id, "decision": "adopted",
        "reason": "已在第六条增加时段的规定。"})
    assert saved.status_code == 303
    assert db.session.scalar(sa.select(DraftDecision)).decision == "adopted"


def test_a_decision_outlives_the_rebuilding_of_its_cluster(decided_consultation):
    draft, manager, article_id, alike, _apart, _whole = decided_consultation
    cluster = cluster_of(alike[0])
    representative_id = cluster.representative_id
    feedback.decide_cluster(manager, draft, cluster, article_id=article_id, decision="adopted",
                            reason="已在第六条增加时段的规定。")
    db.session.commit()
    # Its representative withdraws: the cluster is rebuilt around another comment (clustering deletes the old
    # one), and the decision follows the group's other comments.
    suggestion_services.withdraw_suggestion(cluster.representative.author, cluster.representative)
    db.session.commit()
    clustering.cluster_campaign(draft.campaign)
    db.session.commit()
    remaining = cluster_of(next(s for s in alike if s.id != representative_id))
    assert remaining.representative_id != representative_id
    public_members = db.session.scalar(sa.select(sa.func.count()).select_from(ClusterMember).join(
        Suggestion, Suggestion.id == ClusterMember.suggestion_id).where(
        ClusterMember.cluster_id == remaining.id, Suggestion.public))
    rows = feedback.decisions_of(draft)
    assert [(row.decision.decision, row.comments) for row in rows] == [("adopted", public_members)]
    assert rows[0].representative.is_public  # the withdrawn comment is not shown; the group's is
    # deciding again on the rebuilt cluster changes the same decision
    feedback.decide_cluster(manager, draft, remaining, article_id=article_id, decision="partly",
                            reason="部分采纳。增加了时段。")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftDecision)) == 1


def test_a_decision_on_comments_not_about_that_article_is_refused(decided_consultation):
    draft, manager, article_id, _alike, _apart, whole = decided_consultation
    with pytest.raises(InvalidInput):
        feedback.decide_cluster(manager, draft, cluster_of(whole), article_id=article_id, decision="adopted",
                                reason="放错了条文。")


def test_one_group_with_comments_on_two_articles_takes_a_decision_on_each(app):
    """The same comment posted on 第五条 and on the whole draft is one group of copies: staff decide it for each,
    and neither decision overwrites the other (it used to fail on the comment that holds decisions: a 500)."""
    body = make_body()
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body)
    draft = services.create_draft(manager, campaign, parsing.parse_text(FIRST))
    mining = article(draft, "第五条")
    on_article = [comment(draft, mining) for _ in range(2)]
    on_whole = comment(draft, None)
    db.session.commit()
    clustering.cluster_campaign(campaign)
    group = cluster_of(on_article[0])
    assert cluster_of(on_whole).id == group.id
    first = feedback.decide_cluster(manager, draft, group, article_id=mining.article_id, decision="adopted",
                                    reason="已在第六条增加时段的规定。")
    second = feedback.decide_cluster(manager, draft, group, article_id=None, decision="not_adopted",
                                     reason="整体意见已在第五条处理。")
    db.session.commit()
    assert first.id != second.id and second.suggestion_id == on_whole.id
    assert (first.article_id, first.decision) == (mining.article_id, "adopted")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftDecision)) == 2
    again = feedback.decide_cluster(manager, draft, group, article_id=None, decision="partly",
                                    reason="部分采纳：总则增加一句。")
    assert again.id == second.id


def test_only_managers_publish_the_report(decided_consultation):
    draft, manager, article_id, alike, *_ = decided_consultation
    clerk = make_staff(draft.campaign.body, "drafting_clerk", role="staff")
    feedback.decide_cluster(clerk, draft, cluster_of(alike[0]), article_id=article_id, decision="adopted",
                            reason="已在第六条增加时段的规定。")  # body staff decide
    with pytest.raises(NotAllowed):
        feedback.publish_report(clerk, draft, "感谢大家的参与，现将意见采纳情况说明如下。")
    feedback.publish_report(manager, draft, "感谢大家的参与，现将意见采纳情况说明如下。")
    assert draft.report_published_at is not None


def test_a_decision_made_before_the_revision_is_linked_to_it_when_it_comes(app):
    body = make_body()
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body)
    draft = services.create_draft(manager, campaign, parsing.parse_text(FIRST))
    mining = article(draft, "第五条")
    decided = comment(draft, mining, title="采砂审批应当明确时段")
    db.session.commit()
    clustering.cluster_campaign(campaign)
    record = feedback.decide_cluster(manager, draft, cluster_of(decided), article_id=mining.article_id,
                                     decision="adopted", reason="将在修改稿中增加时段。")
    assert record.version_id is None  # no revision yet
    services.import_version(manager, draft, parsing.parse_text(SECOND))
    assert record.version_id == draft.current_version.id


def test_the_report_masks_personal_data_as_the_proposal_page_does(decided_consultation, client):
    draft, manager, article_id, *_ = decided_consultation
    leaky = comment(draft, article(draft, "第六条"), title="渔船停靠问题请打13912345678联系我",
                    body="码头附近的渔船乱停乱靠，汛期影响行洪，请有关部门划定停靠区域。")
    db.session.commit()
    clustering.cluster_campaign(draft.campaign)
    feedback.decide_cluster(manager, draft, cluster_of(leaky), article_id=article_id, decision="not_adopted",
                            reason="已有规定。")
    feedback.publish_report(manager, draft, "感谢大家的参与，现将意见采纳情况说明如下。")
    db.session.commit()
    for path in (f"/drafts/{draft.id}/report", f"/drafts/{draft.id}/report.json", f"/drafts/{draft.id}/changes",
                 f"/drafts/{draft.id}/articles/{article_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "13912345678" not in page, path
    assert "139****5678" in client.get(f"/drafts/{draft.id}/report").get_data(as_text=True)
