"""Clusters of near-duplicate proposals on real Chinese text: batch and incremental placement agree, staff
decisions survive a re-cluster, support counts distinct citizens, similar proposals while typing."""
import re

import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from suggestions import related, services, similar, similarity_index
from suggestions.models import Cluster, ClusterMember, IssueCandidate, IssueWords, Suggestion, Vote
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user
from tests.suggestions.test_similarity_index import _mapped

PARKING = ("建议在锦绣华庭小区增设停车位",
           "锦绣华庭小区车位严重不足，晚上很多车只能停在消防通道上，存在安全隐患，建议利用小区东侧空地建设立体停车场。")
PARKING_REWORDED = ("锦绣华庭小区停车难，建议增设停车位",
                    "尊敬的领导您好！锦绣华庭小区车位严重不足，晚上很多车辆只能停在消防通道上，存在很大安全隐患，"
                    "建议利用小区东侧的空地建设立体停车场。谢谢！")
PARKING_TRADITIONAL = ("建議在錦繡華庭小區增設停車位",
                       "錦繡華庭小區車位嚴重不足，晚上很多車只能停在消防通道上，存在安全隱患，建議利用小區東側空地建設立體停車場。")
SCHOOL = ("建议在城南小学门口增设护学岗", "每天上下学时段城南小学门口车辆拥堵，学生过马路很危险，建议增设护学岗并施划斑马线。")
SCHOOL_REWORDED = ("城南小学门口急需设置护学岗",
                   "城南小学门口每天上下学时段车辆拥堵严重，学生过马路非常危险，建议增设护学岗，同时施划斑马线。")
NOISE = ("人民路夜市噪音扰民", "人民路夜市每天营业到凌晨两点，噪音很大，附近居民无法休息，建议规范夜市的营业时间。")
BUS = ("建议开通城南到火车站的公交线路", "城南新区居民去火车站要换乘两次公交，单程一个多小时，建议开通直达公交线路。")


def propose(campaign, text, author=None):
    return make_suggestion(campaign, author or make_user(), title=text[0], body=text[1])


def partition(campaign) -> set[frozenset[int]]:
    rows = db.session.execute(sa.select(ClusterMember.cluster_id, ClusterMember.suggestion_id)
                              .join(Cluster).where(Cluster.campaign_id == campaign.id)).all()
    groups: dict[int, set[int]] = {}
    for cluster_id, suggestion_id in rows:
        groups.setdefault(cluster_id, set()).add(suggestion_id)
    return {frozenset(g) for g in groups.values()}


def cluster_of(suggestion) -> Cluster:
    return db.session.get(ClusterMember, suggestion.id).cluster


def recluster(app, campaign) -> None:
    result = app.test_cli_runner().invoke(args=["suggestions", "cluster", str(campaign.id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()


def test_batch_groups_variants_and_counts_each_supporter_once(app, client):
    campaign = make_campaign()
    a1, a2, a3 = (propose(campaign, t) for t in (PARKING, PARKING_REWORDED, PARKING_TRADITIONAL))
    b1, b2 = propose(campaign, SCHOOL), propose(campaign, SCHOOL_REWORDED)
    noise, bus = propose(campaign, NOISE), propose(campaign, BUS)
    keen, other = make_user(), make_user()
    for suggestion in (a1, a2, a3):   # one citizen supporting three variants counts once
        services.vote(keen, suggestion, 1)
    services.vote(other, a2, 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["suggestions", "cluster", str(campaign.id)])
    assert result.exit_code == 0, result.output
    assert "2 clusters" in result.output
    assert partition(campaign) == {frozenset({a1.id, a2.id, a3.id}), frozenset({b1.id, b2.id}),
                                   frozenset({noise.id}), frozenset({bus.id})}
    parking = cluster_of(a1)
    assert parking.size == 3 and parking.supporter_count == 2
    assert parking.representative_id == a1.id  # the first proposal founds the cluster
    assert parking.keywords
    page = client.get(f"/suggestions/clusters?campaign={campaign.id}").get_data(as_text=True)
    assert PARKING[0] in page and SCHOOL[0] in page and NOISE[0] not in page
    page = client.get(f"/suggestions/clusters/{parking.id}").get_data(as_text=True)
    assert re.search(r'id="cluster-supporters">2<', page) and PARKING_TRADITIONAL[0] in page
    page = client.get(f"/suggestions/{a2.id}").get_data(as_text=True)
    assert f"/suggestions/clusters/{parking.id}" in page
    assert "这条建议与另外 2 条建议内容相似，合计 2 人支持" in page  # not "one of 3 … 另外几条"
    page = client.get(f"/suggestions/{b1.id}").get_data(as_text=True)
    assert "这条建议与另外 1 条建议内容相似" in page


def stored_clusters(campaign) -> dict[frozenset[int], tuple[int, int, str]]:
    """Each stored cluster of the campaign by its members: (size, supporter_count, keywords)."""
    clusters = db.session.scalars(sa.select(Cluster).where(Cluster.campaign_id == campaign.id)).all()
    groups = {c.id: frozenset(db.session.scalars(sa.select(ClusterMember.suggestion_id)
                                                 .where(ClusterMember.cluster_id == c.id))) for c in clusters}
    return {groups[c.id]: (c.size, c.supporter_count, c.keywords) for c in clusters}


def test_a_second_batch_keeps_the_rows_of_unchanged_representatives_and_stores_what_a_fresh_one_would(
        app, monkeypatch):
    """Rows stay while representatives stay; keywords are drawn again only for a cluster whose members' texts
    changed, or for every cluster once ``KEYWORDS_VERSION`` is raised; counts are right; and what is stored equals
    a batch from scratch."""
    from suggestions import cluster_rows
    campaign = make_campaign()
    a1, a2 = propose(campaign, PARKING), propose(campaign, PARKING_REWORDED)
    b1, noise = propose(campaign, SCHOOL), propose(campaign, NOISE)
    services.vote(make_user(), a1, 1)
    services.vote(make_user(), noise, 1)
    db.session.commit()
    recluster(app, campaign)
    parking, school = cluster_of(a1), cluster_of(b1)
    db.session.execute(sa.update(Cluster).where(Cluster.size > 1).values(keywords="旧词"))
    b2 = propose(campaign, SCHOOL_REWORDED)
    services.vote(make_user(), b2, 1)
    db.session.commit()
    recluster(app, campaign)
    assert cluster_of(a1).id == parking.id and cluster_of(b2).id == school.id  # same representatives, same rows
    assert cluster_of(a1).keywords == "旧词"  # the parking cluster's members did not change: its keywords are kept
    assert cluster_of(b1).keywords not in ("", "旧词")  # the school cluster gained a member: drawn
    a2.body += "谢谢。"  # an edited member's text draws them again
    db.session.commit()
    recluster(app, campaign)
    assert cluster_of(a1).keywords not in ("", "旧词")
    db.session.execute(sa.update(Cluster).where(Cluster.size > 1).values(keywords="旧词"))
    db.session.commit()
    monkeypatch.setattr(cluster_rows, "KEYWORDS_VERSION", "a new way of drawing keywords")
    recluster(app, campaign)
    assert "旧词" not in (cluster_of(a1).keywords, cluster_of(b1).keywords)  # a new version reaches every cluster
    second = stored_clusters(campaign)
    assert second[frozenset({a1.id, a2.id})][:2] == (2, 1)
    assert second[frozenset({b1.id, b2.id})][:2] == (2, 1)
    assert second[frozenset({noise.id})][:2] == (1, 1)  # a proposal alone counts its supporters too
    db.session.execute(sa.delete(ClusterMember).where(ClusterMember.suggestion_id.in_([a1.id, a2.id, b1.id,
                                                                                       b2.id, noise.id])))
    db.session.execute(sa.delete(Cluster).where(Cluster.campaign_id == campaign.id))
    db.session.commit()
    recluster(app, campaign)
    assert stored_clusters(campaign) == second


def test_incremental_placement_agrees_with_the_batch(app, client):
    campaign = make_campaign()
    first = [propose(campaign, t) for t in (PARKING, SCHOOL, NOISE)]
    db.session.commit()
    recluster(app, campaign)
    login(client, make_user())
    for title, body in (PARKING_REWORDED, SCHOOL_REWORDED, BUS, PARKING_TRADITIONAL):
        response = client.post(f"/suggestions/new/{campaign.id}",
                               data={"title": title, "body": body, "category": "transport",
                                     "message_type": "suggestion"})
        assert response.status_code == 303
    incremental = partition(campaign)
    assert len(incremental) == 4 and frozenset({first[2].id}) in incremental
    assert any(first[0].id in group and len(group) == 3 for group in incremental)
    recluster(app, campaign)
    assert partition(campaign) == incremental


def test_staff_decisions_survive_a_recluster_and_are_audited(app, client):
    body = make_body()
    campaign = make_campaign(body)
    a1, a2, a3 = (propose(campaign, t) for t in (PARKING, PARKING_REWORDED, PARKING_TRADITIONAL))
    b1, b2 = propose(campaign, SCHOOL), propose(campaign, SCHOOL_REWORDED)
    staff = make_staff(body)
    db.session.commit()
    recluster(app, campaign)
    parking, school = cluster_of(a1), cluster_of(b1)
    login(client, staff)
    url = f"/suggestions/clusters/{parking.id}"
    assert client.post(f"{url}/move_out", data={"suggestion_id": a3.id, "reason": "繁体重复件另行处理"}).status_code == 303
    assert client.post(f"{url}/representative", data={"suggestion_id": a2.id, "reason": "表述更完整"}).status_code == 303
    assert client.post(f"{url}/merge", data={"other_cluster": school.id, "reason": "同属交通安全"}).status_code == 303
    assert client.post(f"{url}/confirm", data={"reason": ""}).status_code == 303
    expected = {frozenset({a1.id, a2.id, b1.id, b2.id}), frozenset({a3.id})}
    assert partition(campaign) == expected
    recluster(app, campaign)
    assert partition(campaign) == expected            # the batch undid nothing
    assert cluster_of(a1).representative_id == a2.id
    assert cluster_of(a1).id == parking.id and cluster_of(a1).confirmed_at is not None
    audits = db.session.scalars(sa.select(AuditLog).where(AuditLog.action.like("cluster.%"))
                                .order_by(AuditLog.id)).all()
    assert [a.action for a in audits] == ["cluster.move_out", "cluster.representative", "cluster.merge",
                                          "cluster.confirm"]
    assert all(a.actor_id == staff.id for a in audits)
    assert audits[0].detail["reason"] == "繁体重复件另行处理"
    # The author of a variant in the confirmed cluster is invited to support the representative.
    login(client, b1.author)
    page = client.get(f"/suggestions/{b1.id}").get_data(as_text=True)
    assert f'action="/suggestions/{a2.id}/vote"' in page and "支持代表建议" in page
    assert client.post(f"/suggestions/{a2.id}/vote", data={"value": "support"}).status_code == 303
    assert "支持代表建议" not in client.get(f"/suggestions/{b1.id}").get_data(as_text=True)
    page = client.get(f"/suggestions/clusters/{parking.id}").get_data(as_text=True)
    assert 'id="cluster-supporters">1<' in page   # the cluster page counts live; lists use the stored count
    result = app.test_cli_runner().invoke(args=["suggestions", "recount"])
    assert result.exit_code == 0 and "1 clusters" in result.output
    db.session.expire_all()
    assert cluster_of(a1).supporter_count == 1


def test_cluster_review_is_for_the_body_staff_and_bad_input_changes_nothing(app, client):
    body = make_body()
    campaign = make_campaign(body)
    a1, a2 = propose(campaign, PARKING), propose(campaign, PARKING_REWORDED)
    noise = propose(campaign, NOISE)
    outsider = make_staff(make_body())
    staff = make_staff(body)
    db.session.commit()
    recluster(app, campaign)
    parking = cluster_of(a1)
    before = partition(campaign)
    url = f"/suggestions/clusters/{parking.id}"
    assert client.post(f"{url}/move_out", data={"suggestion_id": a2.id, "reason": "x"}).status_code == 302  # login
    for user in (make_user(), outsider):
        login(client, user)
        assert client.post(f"{url}/move_out", data={"suggestion_id": a2.id, "reason": "无关"}).status_code == 403
    login(client, staff)
    assert client.post(f"{url}/move_out", data={"suggestion_id": a2.id, "reason": "无关"}, csrf=False).status_code == 400
    for action, data, message in [
            ("move_out", {"suggestion_id": a2.id, "reason": ""}, "请说明"),
            ("move_out", {"suggestion_id": noise.id, "reason": "不相关"}, "不在这一组"),
            ("move_out", {"suggestion_id": a1.id, "reason": "不相关"}, "先选择另一条"),
            ("merge", {"other_cluster": 99999, "reason": "同一件事"}, "同一征集"),
            ("representative", {"suggestion_id": "abc"}, "")]:
        response = client.post(f"{url}/{action}", data=data)
        assert response.status_code in (303, 422), (action, response.status_code)
        if response.status_code == 303:  # the message waits on the cluster page
            response = client.get(response.headers["Location"])
        assert message in response.get_data(as_text=True), action
    assert partition(campaign) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action.like("cluster.%"))) == 0


def test_similar_proposals_while_typing_and_on_the_proposal_page(app, client):
    campaign = make_campaign()
    parking, school = propose(campaign, PARKING), propose(campaign, SCHOOL)
    db.session.commit()
    login(client, make_user())
    page = client.get("/suggestions/similar", query_string={
        "campaign": campaign.id, "title": "锦繡華庭停车位不够", "body": "晚上车只能停在消防通道上", "inside_form": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and PARKING[0] in html and SCHOOL[0] not in html
    assert f'formaction="/suggestions/{parking.id}/vote"' in html
    data = client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": "城南小学护学岗"},
                      headers={"X-Requested-With": "fetch"}).get_json()
    assert [hit["id"] for hit in data["similar"]][:1] == [school.id]
    assert client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": ""}
                      ).get_data(as_text=True).strip() == ""
    assert client.get("/suggestions/similar?campaign=99999&title=停车").status_code == 404
    response = client.post(f"/suggestions/new/{campaign.id}", data={  # submitted through the page
        "title": PARKING_REWORDED[0], "body": PARKING_REWORDED[1], "category": "transport",
        "message_type": "suggestion"})
    variant_url = response.headers["Location"]
    page = client.get(variant_url).get_data(as_text=True)
    assert "相似建议" in page and PARKING[0] in page
    assert PARKING_REWORDED[0] in client.get(f"/suggestions/{parking.id}").get_data(as_text=True)  # both ways
    services.hide_suggestion(make_user(role="moderator"), parking, "测试")
    db.session.commit()
    page = client.get(variant_url).get_data(as_text=True)
    assert PARKING[0] not in page      # hidden proposals are never suggested
    assert all(s.id != parking.id for s, _ in similar.similar_proposals(campaign.id, "\n".join(PARKING)))


def test_each_hint_says_its_relation_and_a_supported_one_is_not_offered_again(app, client):
    """Issue 13: a hint says whether it is the same text, the same text reworded or only related; "support this
    one instead" is not offered for a proposal the citizen already supports; on a proposal's page the official
    reply comes before the similar proposals."""
    campaign = make_campaign()
    parking, reworded, school = propose(campaign, PARKING), propose(campaign, PARKING_REWORDED), propose(campaign, SCHOOL)
    citizen = make_user()
    own = propose(campaign, PARKING_TRADITIONAL, author=citizen)
    services.vote(citizen, parking, 1)
    reworded.status = "closed"  # handled: listed, but with no button to support it
    db.session.commit()
    login(client, citizen)
    page = client.get("/suggestions/similar", query_string={
        "campaign": campaign.id, "title": PARKING[0], "body": PARKING[1], "inside_form": "1"}).get_data(as_text=True)
    items = {m.group(1): m.group(0) for m in re.finditer(r'href="/suggestions/(\d+)".*?</li>', page, re.S)}
    assert "内容相同" in items[str(parking.id)] and "您已支持这条" in items[str(parking.id)]
    assert "改为支持这条" not in items[str(parking.id)]
    assert "内容相近" in items[str(reworded.id)] and "已结束" in items[str(reworded.id)]
    assert "改为支持这条" not in items[str(reworded.id)]
    assert "您的建议" in items[str(own.id)] and "改为支持这条" not in items[str(own.id)]
    data = client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": PARKING[0],
                                                            "body": PARKING[1]},
                      headers={"X-Requested-With": "fetch"}).get_json()
    relations = {hit["id"]: hit["relation"] for hit in data["similar"]}
    assert relations[parking.id] == "same_text" and relations[reworded.id] == "reworded"
    assert relations.get(school.id, "related") == "related"
    response = client.post(f"/suggestions/new/{campaign.id}", data={  # its related list is written on publishing
        "title": SCHOOL_REWORDED[0], "body": SCHOOL_REWORDED[1], "category": "transport",
        "message_type": "suggestion"})
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert detail.index('id="reply-heading"') < detail.index('id="similar-heading"')


def test_a_draft_with_only_its_title_typed_finds_the_proposal_with_that_title(app, client):
    """The newcomer's finding: typing an existing proposal's exact title showed no hint, its long body keeping the
    whole-text similarity under the floor; a hint is now ranked by the titles too."""
    campaign = make_campaign()
    long_body = PARKING[1] + "另外小区东门外的人行道也被占了，老人推着婴儿车只能走机动车道，晚上路灯又暗，非常危险。" * 3
    parking = make_suggestion(campaign, make_user(), title=PARKING[0], body=long_body)
    propose(campaign, SCHOOL)
    db.session.commit()
    assert similar.title_likeness(PARKING[0], PARKING[0]) == 1.0
    assert similar.title_likeness(PARKING[0], SCHOOL[0]) < similar.HINT_FLOOR
    hits = similar.similar_proposals(campaign.id, PARKING[0] + "\n")
    assert [s.id for s, _ in hits][:1] == [parking.id]
    data = client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": PARKING[0]},
                      headers={"X-Requested-With": "fetch"}).get_json()
    assert [hit["id"] for hit in data["similar"]][:1] == [parking.id]


def test_a_draft_about_the_same_problem_in_other_words_is_offered_a_related_proposal(app):
    """The newcomer's finding: a draft about cars blocking a school gate's crossing, in the citizen's own words,
    showed no hint although the campaign held proposals about the school gate's traffic; the whole text's score
    was under the floor made for titles. Unrelated proposals still stay out."""
    campaign = make_campaign()
    school, noise, bus = propose(campaign, SCHOOL), propose(campaign, NOISE), propose(campaign, BUS)
    for text in (PARKING, ("锦绣华庭小区垃圾清运不及时", "小区垃圾桶每天都满溢出来，夏天气味很大，建议增加清运次数。")):
        propose(campaign, text)
    db.session.commit()
    draft = "学校门口斑马线被违停车辆遮挡\n每天早上送孩子上学，学校门口斑马线上停满了家长的车，孩子过马路很危险，建议加强管理。"
    hits = {s.id: m for s, m in similar.similar_proposals(campaign.id, draft, floor=similar.RELATED_FLOOR)}
    assert school.id in hits and similar.relation(hits[school.id].kind, hits[school.id].score) == "related"
    assert noise.id not in hits and bus.id not in hits
    # A proposal's stored related list keeps the clustering's floor: the page does not change with who wrote it.
    assert school.id not in {s.id for s, _ in similar.similar_proposals(campaign.id, draft)}


def test_a_reworded_repost_by_the_same_citizen_is_not_called_the_same_text():
    assert similar.relation("exact", 1.0) == "same_text"
    assert similar.relation("same_author_repost", 1.0) == "same_text"
    assert similar.relation("same_author_repost", 0.7) == "reworded"
    assert similar.relation("similar", 0.7) == "reworded"
    assert similar.relation("related", 0.3) == "related"


def _related_pair(campaign):
    """Two related public proposals, each in the other's list (as placing them after submission stores it)."""
    parking, variant = propose(campaign, PARKING), propose(campaign, PARKING_REWORDED)
    db.session.commit()
    related.store_related(variant)
    db.session.commit()
    return parking, variant


def related_section(client, suggestion) -> str:
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    start = page.index('id="similar-heading"')
    return page[start:page.index("</details>", start)]


def my_votes(user) -> dict[int, int]:
    return dict(db.session.execute(sa.select(Vote.suggestion_id, Vote.value).where(Vote.user_id == user.id)).all())


def test_switching_support_to_a_related_proposal_moves_it_in_one_request(app, client):
    """「改为支持这条」 was offered to a viewer who supported nothing, and clicking it added a second support."""
    campaign = make_campaign()
    parking, variant = _related_pair(campaign)
    citizen = make_user()
    login(client, citizen)
    related = related_section(client, variant)  # supporting nothing: a plain support, not a switch
    assert PARKING[0] in related and ">支持这条</button>" in related and "改为支持这条" not in related
    assert f'action="/suggestions/{parking.id}/vote"' in related and "switch-support" not in related
    assert client.post(f"/suggestions/{variant.id}/vote", data={"value": "support"}).status_code == 303
    related = related_section(client, variant)  # supporting this one: the switch
    assert ">改为支持这条</button>" in related and f'action="/suggestions/{variant.id}/switch-support"' in related
    assert f'name="to" value="{parking.id}"' in related and 'name="csrf_token"' in related
    assert client.post(f"/suggestions/{variant.id}/switch-support", data={"to": parking.id},
                       csrf=False).status_code == 400
    response = client.post(f"/suggestions/{variant.id}/switch-support", data={"to": parking.id})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/suggestions/{parking.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "您的支持已转到这条建议。" in page and "您已支持这条建议。" in page
    assert '<strong id="support-count">1</strong>' in page
    assert '<strong id="support-count">0</strong>' in client.get(f"/suggestions/{variant.id}").get_data(as_text=True)
    db.session.expire_all()
    assert (parking.support_count, variant.support_count) == (1, 0) and my_votes(citizen) == {parking.id: 1}
    assert services.recount_votes() == 0  # the counters are what the vote rows say
    assert "您已支持这条。" in related_section(client, variant)  # the list knows where the support went now


def test_a_refused_switch_loses_no_support_and_adds_none(app, client):
    campaign = make_campaign()
    parking, variant = _related_pair(campaign)
    citizen, moderator = make_user(), make_user(role="moderator")
    own = propose(campaign, ("锦绣华庭小区停车位不够用", "锦绣华庭小区车位不足，很多车停在消防通道上，建议建设立体停车场。"),
                  author=citizen)
    login(client, citizen)
    # Supporting nothing here: nothing to move, and no second support is added.
    response = client.post(f"/suggestions/{variant.id}/switch-support", data={"to": parking.id})
    assert "您没有支持这条建议" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert my_votes(citizen) == {}
    # The support is taken back here first (lower id), then the vote there is refused (one's own proposal).
    services.vote(citizen, parking, 1)
    db.session.commit()
    response = client.post(f"/suggestions/{parking.id}/switch-support", data={"to": own.id})
    assert "不能对自己提出的建议表态" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert my_votes(citizen) == {parking.id: 1} and (parking.support_count, own.support_count) == (1, 0)
    # The vote there is cast first (lower id), then the support here cannot be taken back (moderators hold it).
    services.withdraw_vote(citizen, parking)
    services.vote(citizen, variant, 1)
    services.set_votes_held(moderator, sa.select(Vote.id).where(Vote.user_id == citizen.id), True)
    db.session.commit()
    response = client.post(f"/suggestions/{variant.id}/switch-support", data={"to": parking.id})
    assert "审核" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert my_votes(citizen) == {variant.id: 1} and (parking.support_count, variant.support_count) == (0, 0)
    assert services.recount_votes() == 0


def test_hidden_proposals_never_show_through_a_cluster(app, client):
    campaign = make_campaign()
    empty = make_campaign(title="尚无建议的征集")
    a1, a2 = propose(campaign, PARKING), propose(campaign, PARKING_REWORDED)
    db.session.commit()
    recluster(app, campaign)
    result = app.test_cli_runner().invoke(args=["suggestions", "cluster", str(empty.id)])
    assert result.exit_code == 0 and "0 clusters" in result.output
    assert app.test_cli_runner().invoke(args=["suggestions", "cluster", "99999"]).exit_code != 0
    parking = cluster_of(a1)
    services.hide_suggestion(make_user(role="moderator"), a1, "含有他人电话号码")
    db.session.commit()
    page = client.get(f"/suggestions/clusters/{parking.id}").get_data(as_text=True)
    assert PARKING[0] not in page and PARKING_REWORDED[0] in page
    assert PARKING[0] not in client.get(f"/suggestions/clusters?campaign={campaign.id}").get_data(as_text=True)
    services.hide_suggestion(make_user(role="moderator"), a2, "测试")
    db.session.commit()
    assert client.get(f"/suggestions/clusters/{parking.id}").status_code == 404


def test_a_proposal_that_leaves_public_view_leaves_its_cluster_and_its_counts(app, client):
    campaign = make_campaign()
    a1, a2, a3 = (propose(campaign, t) for t in (PARKING, PARKING_REWORDED, PARKING_TRADITIONAL))
    db.session.commit()
    recluster(app, campaign)
    parking = cluster_of(a1)
    assert parking.size == 3
    representative = parking.representative_id
    services.hide_suggestion(make_user(role="moderator"), db.session.get(Suggestion, representative), "含个人信息")
    db.session.commit()
    db.session.expire_all()
    assert parking.size == 2 and parking.representative_id != representative
    assert db.session.get(ClusterMember, representative) is None
    remaining = [s for s in (a1, a2, a3) if s.id != representative]
    page = client.get(f"/suggestions/{remaining[0].id}").get_data(as_text=True)
    assert "与另外 1 条建议内容相似" in page and "另外 2 条" not in page
    api = client.get(f"/api/v1/clusters/{parking.id}").get_json()
    assert api["size"] == 2 == len(api["members"])
    login(client, make_user(role="moderator"))
    assert client.post(f"/suggestions/{representative}/unhide").status_code == 303
    db.session.expire_all()
    assert parking.size == 3 and db.session.get(ClusterMember, representative).cluster_id == parking.id


def test_typing_hints_on_a_campaign_with_no_public_proposal_are_empty(app, client):
    campaign = make_campaign()
    response = client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": PARKING[0],
                                                                "body": PARKING[1]}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 200 and response.get_json() == {"similar": []}
    first = propose(campaign, PARKING)  # the first proposal is found at once by the next writer
    db.session.commit()
    response = client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": PARKING_REWORDED[0],
                                                                "body": PARKING_REWORDED[1]},
                          headers={"X-Requested-With": "fetch"})
    assert [hit["id"] for hit in response.get_json()["similar"]] == [first.id]


def test_a_process_keeps_the_indexes_it_built_itself_within_a_budget_of_proposals(app, client, tmp_path):
    (tmp_path / "full").write_text("")  # no folder can be made under a file: as on a full disk, nothing is saved
    app.config.update(SIMILARITY_INDEX_BUDGET=3, SIMILARITY_INDEX_DIR=str(tmp_path / "full"))
    campaigns = [make_campaign(title=f"第{i}次征集") for i in range(3)]
    for campaign in campaigns:
        propose(campaign, PARKING), propose(campaign, SCHOOL)
    db.session.commit()
    for campaign in campaigns:
        assert similar.similar_proposals(campaign.id, "\n".join(PARKING_REWORDED))  # each answers...
    assert list(similarity_index._indexes) == [campaigns[2].id]  # ...and only the latest stays (2 + 2 > 3)
    assert similar.similar_proposals(campaigns[0].id, "\n".join(PARKING_REWORDED))  # rebuilt when used again
    assert list(similarity_index._indexes) == [campaigns[0].id]


def test_saved_indexes_are_shared_and_count_only_what_was_published_since(app, client):
    app.config["SIMILARITY_INDEX_BUDGET"] = 3
    campaigns = [make_campaign(title=f"第{i}次征集") for i in range(3)]
    for campaign in campaigns:
        propose(campaign, PARKING), propose(campaign, SCHOOL)
    db.session.commit()
    for campaign in campaigns:
        assert similar.similar_proposals(campaign.id, "\n".join(PARKING_REWORDED))
    assert list(similarity_index._indexes) == [c.id for c in campaigns]  # mapped folders: none of it in this process alone
    held = similarity_index._indexes[campaigns[0].id]
    assert held.folder is not None and held.in_memory == 0
    assert _mapped(held.index.rows.data)  # read from the saved folder, not copied
    later = propose(campaigns[0], PARKING_REWORDED)  # published after the folder was saved
    db.session.commit()
    hits = similar.similar_proposals(campaigns[0].id, "\n".join(PARKING))
    assert later.id in [s.id for s, _ in hits] and held.in_memory == 1
    similarity_index.forget_indexes()  # a process started afterwards maps the same folder and finds it too
    assert later.id in [s.id for s, _ in similar.similar_proposals(campaigns[0].id, "\n".join(PARKING))]
    assert similarity_index._indexes[campaigns[0].id].folder == held.folder


def test_a_fresh_saved_index_replaces_the_old_one_in_every_process(app, client):
    app.config["SIMILARITY_INDEX_REBUILD_AFTER"] = 1
    campaign = make_campaign()
    propose(campaign, PARKING)
    db.session.commit()
    assert similar.similar_proposals(campaign.id, "\n".join(PARKING_REWORDED))
    first = similarity_index._indexes[campaign.id].folder
    school, noise = propose(campaign, SCHOOL), propose(campaign, NOISE)
    db.session.commit()
    similar.similar_proposals(campaign.id, "\n".join(SCHOOL))  # 2 published since > 1: a fresh folder is saved
    second = similarity_index._current_folder(campaign.id)
    assert second != first
    assert [s.id for s, _ in similar.similar_proposals(campaign.id, "\n".join(SCHOOL))][:1] == [school.id]
    held = similarity_index._indexes[campaign.id]
    assert held.folder == second and held.in_memory == 0 and noise.id in held.index


def stored_batch(campaign) -> tuple[dict, set, set]:
    """What a batch stored, by proposal ids: clusters (members → size, supporters, keywords), each member's kind
    and score, and the merge candidates."""
    members = {(m.suggestion_id, m.cluster.representative_id, m.kind, round(m.score, 9)) for m in db.session.scalars(
        sa.select(ClusterMember).join(Cluster).where(Cluster.campaign_id == campaign.id))}
    candidates = {(c.suggestion_id, c.other_suggestion_id, round(c.score, 9), c.why) for c in db.session.scalars(
        sa.select(IssueCandidate).where(IssueCandidate.campaign_id == campaign.id))}
    return stored_clusters(campaign), members, candidates


def test_a_batch_in_two_processes_stores_what_one_process_stores(app, monkeypatch):
    """`flask suggestions cluster --processes 2`: masking, words, reading, scoring and keywords are shared out
    in slices (made small here, so that 300 proposals make several) and the stored result is the same. (The copies
    engine's own chunks, 10,000 texts and more, are forked in tests/suggestions/test_dedup.py.)"""
    from demo.content import generate_proposals
    from suggestions import cluster_rows, clustering, dedup_scale, issue_text_words, issue_texts
    campaign = make_campaign()
    authors = [make_user() for _ in range(40)]
    for k, proposal in enumerate(generate_proposals(seed=5, n=300)):
        propose(campaign, (proposal["title"], proposal["body"]), authors[k % 40])
    db.session.commit()
    monkeypatch.setattr(clustering, "_PROPOSALS_A_TASK", 40)
    monkeypatch.setattr(cluster_rows, "_CLUSTERS_A_TASK", 5)
    monkeypatch.setattr(issue_text_words, "_TEXTS_A_CUT", 40)
    monkeypatch.setattr(issue_texts, "_PAIRS_A_TASK", 200)
    monkeypatch.setattr(issue_texts, "_TEXTS_A_TASK", 40)
    forked = []
    real_map = dedup_scale._map

    def map_recorded(function, tasks, n_jobs, **shared):
        if n_jobs > 1 and len(tasks) > 1:
            forked.append(function.__name__)
        return real_map(function, tasks, n_jobs, **shared)
    monkeypatch.setattr(dedup_scale, "_map", map_recorded)  # what map_in_slices calls
    monkeypatch.setattr(issue_texts, "_map", map_recorded)

    def batch(processes: str) -> tuple[dict, set, set]:
        db.session.execute(sa.delete(IssueWords))  # each batch cuts its words and draws its keywords itself
        db.session.execute(sa.update(Cluster).values(keywords_digest=None))
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["suggestions", "cluster", str(campaign.id),
                                                    "--processes", processes])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return stored_batch(campaign)

    alone = batch("1")
    clusters, members, candidates = alone
    assert sum(len(group) > 1 for group in clusters) >= 20
    assert any(kind == "same_issue" for _, _, kind, _ in members)
    assert not forked
    assert batch("2") == alone
    assert {"_texts_of", "_issue_texts_of", "_cut", "_keywords_of_clusters", "_features_of_span"} <= set(forked)
