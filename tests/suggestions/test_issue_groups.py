"""Clusters by issue on real Chinese text: one problem at one place in other words joins one cluster, the same
problem at another estate never does, staff decisions hold, and the model in use is the instance's own once
`flask suggestions train-similarity` has written it."""
import csv
import json

import pytest
import sqlalchemy as sa

from core.extensions import db
from suggestions import dedup, issue_model, issue_words
from suggestions.clustering import place_new
from suggestions.issue_groups import join_issues
from suggestions.issue_text_words import Text, words_of
from suggestions.models import ClusterMember, ClusterPin, IssueCandidate, IssueWords, PinKind, Status, Suggestion
from suggestions.same_issue import SHIPPED_MODEL, SameIssueModel
from suggestions.services import withdraw_suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user
from tests.suggestions.test_clusters import cluster_of, partition, recluster

DRAIN = Text("翠湖花园小区门口下水道堵塞积水",
             "翠湖花园小区东门外的下水道堵了很久，一下雨门口就积水，老人孩子出门要蹚水，请尽快疏通。")
DRAIN_OTHER_WORDS = Text("翠湖花园东门一下雨就淹水",
                         "反映翠湖花园小区东门排水不畅的问题，下水道堵塞多日，雨天门口积水严重，希望有关部门派人疏通。")
DRAIN_OTHER_ESTATE = Text("金桂苑小区门口下水道堵塞积水",
                          "金桂苑小区东门外的下水道堵了很久，一下雨门口就积水，老人孩子出门要蹚水，请尽快疏通。")
OTHERS = [Text("金桂苑小区楼下烧烤摊油烟扰民", "金桂苑小区楼下的烧烤摊每天营业到凌晨，油烟直冲楼上，窗户都不敢开，请城管管一管。"),
          Text("建议增开到火车站的公交线路", "城南片区去火车站要换乘两次，单程一个多小时，建议增开直达公交。"),
          Text("幸福里社区缺少健身器材", "幸福里社区居民想锻炼却没有健身器材和场地，建议在空地上安装一些。"),
          Text("城南小学门口上下学拥堵", "城南小学门口上下学时段车辆乱停，学生过马路很危险，建议设置护学岗。")]
TEXTS = [DRAIN, *OTHERS, DRAIN_OTHER_WORDS, DRAIN_OTHER_ESTATE]


def grouping(**pins):
    found = dedup.cluster([(k, f"{t.title}\n{t.body}", k) for k, t in enumerate(TEXTS)])
    copies = [m.cluster for m in found.members]
    assert len(set(copies)) == len(TEXTS)  # no two are copies: only the same-issue score can join them
    return join_issues(TEXTS, copies, found.pairs, SameIssueModel.load(SHIPPED_MODEL), **pins)


def test_the_same_drain_in_other_words_joins_and_the_same_complaint_at_another_estate_does_not():
    result = grouping()
    drain, other_words, other_estate = 0, len(TEXTS) - 2, len(TEXTS) - 1
    assert result.representative[other_words] == result.representative[drain]
    assert result.joined_by[other_words] is not None or result.joined_by[drain] is not None
    assert result.representative[other_estate] != result.representative[drain]


def test_staff_separations_and_chosen_representatives_hold():
    drain, other_words = 0, len(TEXTS) - 2
    apart = grouping(apart=[(drain, other_words)])
    assert apart.representative[other_words] != apart.representative[drain]
    chosen = grouping(pinned_representatives=[other_words])
    assert chosen.representative[drain] == chosen.representative[other_words] == other_words


@pytest.mark.parametrize("setting", [{"ISSUE_GROUPING": False}, {"ISSUE_GROUPING_MAX_PROPOSALS": 3}])
def test_a_campaign_clusters_by_issue_and_by_copies_only_when_switched_off_or_too_large(app, setting):
    campaign = make_campaign()
    proposals = [make_suggestion(campaign, make_user(), title=t.title, body=t.body) for t in TEXTS]
    drain, other_words, other_estate = proposals[0], proposals[-2], proposals[-1]
    recluster(app, campaign)
    assert cluster_of(drain) == cluster_of(other_words) != cluster_of(other_estate)
    joined = {db.session.get(ClusterMember, p.id).kind for p in (drain, other_words)}
    assert joined == {"representative", "same_issue"}
    saved = {key: app.config[key] for key in setting}
    app.config.update(setting)
    try:
        recluster(app, campaign)
    finally:
        app.config.update(saved)
    assert all(len(group) == 1 for group in partition(campaign))


def test_train_similarity_writes_the_instance_model_which_the_platform_then_uses(app, tmp_path):
    pairs = tmp_path / "pairs.csv"
    with open(pairs, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title1", "body1", "title2", "body2", "label"])
        for a, b, label in [(DRAIN, DRAIN_OTHER_WORDS, 1), (DRAIN, DRAIN_OTHER_ESTATE, 0), (OTHERS[0], OTHERS[1], 0),
                            (OTHERS[2], Text("幸福里社区没有健身场地", "幸福里社区居民没有地方锻炼，希望安装健身器材。"), 1)]:
            writer.writerow([a.title, a.body, b.title, b.body, label])
    assert issue_model.model_path() == SHIPPED_MODEL
    result = app.test_cli_runner().invoke(args=["suggestions", "train-similarity", "--pairs", str(pairs)])
    assert result.exit_code == 0, result.output
    assert issue_model.model_path() == issue_model.Path(app.config["SAME_ISSUE_MODEL"])
    saved = json.loads(issue_model.model_path().read_text(encoding="utf-8"))
    assert saved["trained_on"] == {"sources": {"pairs.csv": 4, "staff decisions": 0}, "pairs": 4, "same_issue": 2}
    assert issue_model.current_model().trained_on == saved["trained_on"]


def test_train_similarity_says_what_is_wrong_with_a_file_and_writes_nothing(app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence1,sentence2,label\n甲,乙,1\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["suggestions", "train-similarity", "--pairs", str(bad)])
    assert result.exit_code != 0 and "no column" in result.output
    one_kind = tmp_path / "one_kind.csv"
    one_kind.write_text("title1,body1,title2,body2,label\n甲,乙,丙,丁,1\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["suggestions", "train-similarity", "--pairs", str(one_kind)])
    assert result.exit_code != 0 and "both kinds" in result.output
    assert issue_model.model_path() == SHIPPED_MODEL


def test_staff_decisions_become_labelled_pairs(app):
    campaign = make_campaign()
    first, second, third = (make_suggestion(campaign, make_user(), title=t.title, body=t.body)
                            for t in (DRAIN, DRAIN_OTHER_WORDS, DRAIN_OTHER_ESTATE))
    staff = make_user()
    db.session.add_all([ClusterPin(campaign_id=campaign.id, kind=PinKind.TOGETHER, suggestion_id=second.id,
                                   other_id=first.id, actor_id=staff.id, reason="同一个下水道"),
                        ClusterPin(campaign_id=campaign.id, kind=PinKind.APART, suggestion_id=third.id,
                                   other_id=first.id, actor_id=staff.id, reason="另一个小区")])
    db.session.commit()
    pairs = issue_model.staff_decision_pairs()
    assert sorted((a.title, b.title, label) for a, b, label in pairs) == sorted([
        (DRAIN_OTHER_ESTATE.title, DRAIN.title, 0), (DRAIN_OTHER_WORDS.title, DRAIN.title, 1)])


def test_staff_see_groups_that_may_be_the_same_issue_with_the_evidence_and_merge_one(app, client):
    body = make_body()
    campaign = make_campaign(body)
    proposals = [make_suggestion(campaign, make_user(), title=t.title, body=t.body) for t in TEXTS]
    drain, other_estate = proposals[0], proposals[-1]
    staff = make_staff(body)
    db.session.commit()
    recluster(app, campaign)
    here, there = cluster_of(drain), cluster_of(other_estate)
    here_id, there_id = here.id, there.id
    candidate = db.session.scalars(sa.select(IssueCandidate).where(sa.or_(
        IssueCandidate.cluster_id == here.id, IssueCandidate.other_cluster_id == here.id))
        .order_by(IssueCandidate.score.desc())).first()
    assert {candidate.cluster_id, candidate.other_cluster_id} == {here.id, there.id}
    assert candidate.evidence["places_differ"] == [["翠湖花园小区", "金桂苑小区"]]
    url = f"/suggestions/clusters/{here.id}"
    assert DRAIN_OTHER_ESTATE.title not in client.get(url).get_data(as_text=True)  # staff only
    login(client, staff)
    page = client.get(url).get_data(as_text=True)
    assert DRAIN_OTHER_ESTATE.title in page and "翠湖花园小区 / 金桂苑小区" in page and "下水道" in page
    assert client.post(f"{url}/merge", data={"other_cluster": there.id, "reason": "同一排水管网"}).status_code == 303
    db.session.expire_all()
    assert cluster_of(other_estate).id == here_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssueCandidate).where(sa.or_(
        IssueCandidate.cluster_id == there_id, IssueCandidate.other_cluster_id == there_id))) == 0
    recluster(app, campaign)  # the staff's merge holds against the place rule
    assert cluster_of(other_estate).id == cluster_of(drain).id


def test_typing_hints_offer_the_same_issue_in_other_words_beside_the_copy_of_the_draft(app, client):
    campaign = make_campaign()
    proposals = [make_suggestion(campaign, make_user(), title=t.title, body=t.body) for t in TEXTS]
    drain, other_words = proposals[0], proposals[-2]
    db.session.commit()
    recluster(app, campaign)
    assert cluster_of(drain) == cluster_of(other_words)
    draft = {"campaign": campaign.id, "title": DRAIN.title, "body": DRAIN.body.replace("请尽快疏通", "希望尽快派人疏通")}
    hints = client.get("/suggestions/similar", query_string=draft, headers={"Accept": "application/json"}).get_json()
    relations = {hint["id"]: hint["relation"] for hint in hints["similar"]}
    assert relations[drain.id] in ("same_text", "reworded")
    assert relations[other_words.id] == "same_issue"
    assert proposals[-1].id not in relations or relations[proposals[-1].id] == "related"  # the other estate
    page = client.get("/suggestions/similar", query_string={**draft, "inside_form": "1"}).get_data(as_text=True)
    assert "同一问题" in page


def test_typing_hints_score_the_same_issue_with_the_model_before_any_clustering(app, client):
    """No cluster yet (a campaign's first hour): the model itself says which candidate is the same issue in other
    words, and ranks it before proposals that merely share words; the same complaint about another estate is
    never called the same issue."""
    campaign = make_campaign()
    proposals = {t: make_suggestion(campaign, make_user(), title=t.title, body=t.body)
                 for t in (DRAIN, DRAIN_OTHER_ESTATE, *OTHERS)}
    db.session.commit()
    draft = {"campaign": campaign.id, "title": DRAIN_OTHER_WORDS.title, "body": DRAIN_OTHER_WORDS.body}
    hints = client.get("/suggestions/similar", query_string=draft, headers={"Accept": "application/json"}).get_json()
    relations = {hint["id"]: hint["relation"] for hint in hints["similar"]}
    assert relations[proposals[DRAIN].id] == "same_issue"
    assert hints["similar"][0]["id"] == proposals[DRAIN].id
    assert relations.get(proposals[DRAIN_OTHER_ESTATE].id) in (None, "related")
    assert all(relation != "same_issue" for id_, relation in relations.items() if id_ != proposals[DRAIN].id)


def test_two_drains_at_our_estates_gate_in_other_words_are_the_same_issue_while_typing(app, client):
    """What a newcomer met twice: two citizens write of the drain at their estate's gate under one title, naming
    no estate; one says where the writer lives (我家住在东湖区), as another proposal of the campaign does, which read
    as a place called 家住在东 and set them apart as two places."""
    campaign = make_campaign()
    title = "小区门口下水道堵塞，一下雨就积水"
    first = make_suggestion(campaign, make_user(), title=title, body=(
        "我们小区大门口的下水道已经堵了好几个月，每次下雨门口就积水，水深的时候能没过脚踝。老人和孩子进出只能绕着走，"
        "电动车也容易熄火。希望有关部门尽快来疏通下水道，顺便把门口的排水管换粗一点。"))
    make_suggestion(campaign, make_user(), title="路灯坏了好几个月没人修",
                    body="我家住在东湖区，门口那条路的路灯坏了好几个月，晚上出门一片漆黑，老人摔倒过两次。")
    for other in OTHERS:
        make_suggestion(campaign, make_user(), title=other.title, body=other.body)
    db.session.commit()
    draft = {"campaign": campaign.id, "title": title, "body": (
        "我家住在东湖区一个老小区，小区门口的下水道口经常被树叶和垃圾堵住，一下大雨门口就变成一片水塘。"
        "上班的人只能踩着砖头过去，晚上看不清很容易摔倒。建议这次改造时把门口的排水系统彻底修一修，并定期清理。")}
    hints = client.get("/suggestions/similar", query_string=draft, headers={"Accept": "application/json"}).get_json()
    relations = {hint["id"]: hint["relation"] for hint in hints["similar"]}
    assert relations[first.id] == "same_issue"


def test_a_proposal_placed_between_batches_joins_its_issue_and_never_another_estate(app, client):
    """Between two nightly batches a new proposal in other words joins the cluster of its issue at once (it
    copies none), as the next batch would; the same complaint about a third estate does not."""
    campaign = make_campaign()
    proposals = {t: make_suggestion(campaign, make_user(), title=t.title, body=t.body)
                 for t in (DRAIN, DRAIN_OTHER_ESTATE, *OTHERS)}
    db.session.commit()
    recluster(app, campaign)
    login(client, make_user())
    third_estate = Text("明珠小区门口下水道堵塞积水", "明珠小区东门外的下水道堵了很久，一下雨门口就积水，老人孩子出门要蹚水，请尽快疏通。")
    for text in (DRAIN_OTHER_WORDS, third_estate):
        response = client.post(f"/suggestions/new/{campaign.id}", data={
            "title": text.title, "body": text.body, "category": "transport", "message_type": "suggestion"})
        assert response.status_code == 303
    db.session.expire_all()
    new = {text: db.session.scalar(sa.select(Suggestion).where(Suggestion.title == text.title))
           for text in (DRAIN_OTHER_WORDS, third_estate)}
    placed = db.session.get(ClusterMember, new[DRAIN_OTHER_WORDS].id)
    assert placed.cluster_id == cluster_of(proposals[DRAIN]).id and placed.kind == "same_issue"
    assert 0.5 <= placed.score <= 1
    assert cluster_of(new[third_estate]).id not in {cluster_of(proposals[DRAIN]).id,
                                                    cluster_of(proposals[DRAIN_OTHER_ESTATE]).id}
    before = partition(campaign)
    recluster(app, campaign)
    assert partition(campaign) == before  # the batch agrees


@pytest.mark.parametrize("case", ["staff keep them apart", "issue grouping off"])
def test_a_proposal_placed_between_batches_joins_by_copies_only_where_the_batch_would_not_join_its_issue(app, case):
    campaign = make_campaign()
    proposals = {t: make_suggestion(campaign, make_user(), title=t.title, body=t.body)
                 for t in (DRAIN, DRAIN_OTHER_ESTATE, *OTHERS)}
    db.session.commit()
    recluster(app, campaign)
    new = make_suggestion(campaign, make_user(), title=DRAIN_OTHER_WORDS.title, body=DRAIN_OTHER_WORDS.body)
    member_of_drain = [m for m in db.session.scalars(sa.select(ClusterMember).where(
        ClusterMember.cluster_id == cluster_of(proposals[DRAIN]).id))]
    saved = dict(app.config)
    if case == "staff keep them apart":  # from the drain cluster's member
        db.session.add(ClusterPin(campaign_id=campaign.id, kind=PinKind.APART, suggestion_id=new.id,
                                  other_id=member_of_drain[0].suggestion_id, actor_id=make_user().id, reason="另案"))
    else:
        app.config["ISSUE_GROUPING"] = False
    db.session.commit()
    try:
        placed = place_new(db.session.get(type(new), new.id))
        db.session.commit()
    finally:
        app.config.update(saved)
    assert placed.id != cluster_of(proposals[DRAIN]).id
    assert db.session.get(ClusterMember, new.id).kind == "representative"


def test_typing_hints_answer_drafts_and_proposals_without_a_word_of_two_characters(app, client):
    campaign = make_campaign()
    for body in ("的了的了的了的了的了的了", "吗呢吗呢吗呢吗呢吗呢吗呢"):
        make_suggestion(campaign, make_user(), title=body[:4], body=body)
    db.session.commit()
    for title, body in (("啊的", "了吗呢吧啊哦的了吗呢吧啊哦"), ("！！！！", "？？？？"), ("的了的了", "")):
        response = client.get("/suggestions/similar", query_string={"campaign": campaign.id, "title": title,
                                                                     "body": body}, headers={"Accept": "application/json"})
        assert response.status_code == 200, (title, body)
        assert all(hint["relation"] != "same_issue" for hint in response.get_json()["similar"])


def test_clustering_again_cuts_words_only_for_proposals_new_or_edited_and_forgets_hidden_ones(app, monkeypatch):
    """The words jieba cut are kept (issue_words) and used while the text is the same: the next clustering cuts
    only what changed, and groups exactly as with every text cut again."""
    campaign = make_campaign()
    proposals = [make_suggestion(campaign, make_user(), title=t.title, body=t.body) for t in TEXTS]
    cut: list[str] = []
    real_words_of = issue_words.words_of
    monkeypatch.setattr(issue_words, "words_of",
                        lambda texts, n_jobs=1: (cut.extend(t.title for t in texts), real_words_of(texts, n_jobs))[1])
    recluster(app, campaign)
    first = partition(campaign)
    assert sorted(cut) == sorted(t.title for t in TEXTS)
    kept = {row.suggestion_id: row for row in db.session.scalars(sa.select(IssueWords))}
    assert set(kept) == {p.id for p in proposals}
    assert (kept[proposals[0].id].whole_words, kept[proposals[0].id].title_words) == words_of([DRAIN])[0]

    cut.clear()
    recluster(app, campaign)
    assert cut == [] and partition(campaign) == first

    edited, hidden = proposals[1], proposals[2]
    edited.body += "另外，夜里十一点以后烤炉还在冒烟。"
    hidden.status = Status.HIDDEN
    db.session.commit()
    recluster(app, campaign)
    assert cut == [edited.title]
    kept = {row.suggestion_id: row for row in db.session.scalars(sa.select(IssueWords))}
    assert hidden.id not in kept and "冒烟" in kept[edited.id].whole_words.split(" ")
    drain, other_words, other_estate = proposals[0], proposals[-2], proposals[-1]
    assert cluster_of(drain) == cluster_of(other_words) != cluster_of(other_estate)


def test_a_new_proposal_placed_after_its_submission_has_its_words_kept_until_it_is_withdrawn(app, client):
    campaign = make_campaign()
    author = make_user()
    login(client, author)
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": DRAIN.title, "body": DRAIN.body, "category": "transport", "message_type": "suggestion"})
    assert response.status_code == 303
    new_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    kept = db.session.get(IssueWords, new_id)
    assert (kept.whole_words, kept.title_words) == words_of([DRAIN])[0]
    withdraw_suggestion(author, db.session.get(Suggestion, new_id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(IssueWords, new_id) is None
