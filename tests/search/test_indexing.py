"""The index follows committed data: after-commit indexing through a queue table, catch-up after a crash,
a full rebuild, hidden proposals leaving the index, and several processes writing at once."""
import multiprocessing
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.extensions import db
from search.backend import SearchDocument, SearchQuery, backend_from_config
from search.indexing import drain, get_backend
from search.models import SearchQueue
from suggestions import services
from suggestions.models import Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_suggestion, make_user

GOOD = {"title": "建议在锦绣华庭小区增设充电桩", "body": "小区里电动汽车越来越多，但没有一个充电桩，车主只能拉线充电，很不安全。",
        "category": "transport", "message_type": "suggestion"}


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def found(text: str, **filters) -> list[int]:
    return [h.id for h in get_backend().search(SearchQuery(text=text, filters=filters)).hits]


def queued() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueue))


def test_a_submitted_proposal_is_searchable_after_its_request(client):
    campaign = make_campaign()
    login(client, make_user())
    assert client.post(f"/suggestions/new/{campaign.id}", data=GOOD).status_code == 303
    assert len(found("充電樁")) == 1  # Traditional query, Simplified text
    assert queued() == 0
    page = client.get("/search/?q=充电桩").get_data(as_text=True)
    assert "增设充电桩" in text_of(page) and '<mark class="hl' in page
    # Each hit says where it was made, where it stands, when, and its support, as the campaign's list does.
    words = " ".join(text_of(page).split())
    assert f"{campaign.title} · 已公开 · " in words and "0 人支持" in words


def test_a_rolled_back_proposal_never_reaches_the_index(app):
    make_suggestion(title="建议整治人民路夜市噪音扰民问题")
    assert queued() == 1  # one row per change, however many apps this process has built
    db.session.rollback()
    assert queued() == 0
    drain(get_backend())
    assert found("夜市噪音") == []


def test_hidden_proposals_leave_the_index(app):
    suggestion = make_suggestion(title="建议整治人民路夜市噪音扰民问题")
    db.session.commit()
    drain(get_backend())
    assert found("夜市噪音") == [suggestion.id]
    services.hide_suggestion(make_user(role="moderator"), suggestion, "含有他人电话号码")
    db.session.commit()
    drain(get_backend())
    assert found("夜市噪音") == []


def test_catch_up_repairs_a_crash_between_commit_and_indexing(app, client):
    app.config["SEARCH_INDEX_ON_REQUEST"] = False  # the process "dies" after the commit, before indexing
    campaign = make_campaign()
    login(client, make_user())
    assert client.post(f"/suggestions/new/{campaign.id}", data=GOOD).status_code == 303
    assert found("充电桩") == [] and queued() >= 1
    result = app.test_cli_runner().invoke(args=["search", "catch-up"])
    assert result.exit_code == 0, result.output
    assert len(found("充电桩")) == 1 and queued() == 0


def test_reindex_rebuilds_from_the_database(app):
    kept = make_suggestion(title="关于老旧小区加装电梯的建议")
    hidden = make_suggestion(title="关于老旧小区加装电梯补贴的咨询")
    hidden.status = "hidden"
    db.session.commit()
    get_backend().clear()
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "1 proposals indexed" in result.output
    assert found("加装电梯") == [kept.id]


def test_search_page_filters_and_bad_queries(client):
    campaign = make_campaign()
    other = make_campaign(title="另一个征集")
    make_suggestion(campaign, title="建议增设公交线路方便出行")
    make_suggestion(other, title="公交线路调整的咨询", message_type="question")
    db.session.commit()
    drain(get_backend())
    page = text_of(client.get(f"/search/?q=公交线路&campaign={other.id}").get_data(as_text=True))
    assert "公交线路调整的咨询" in page and "方便出行" not in page
    page = text_of(client.get("/search/?q=公交线路&type=question").get_data(as_text=True))
    assert "公交线路调整的咨询" in page and "方便出行" not in page
    page = text_of(client.get("/search/?q=公交线路").get_data(as_text=True))
    assert "公交线路调整的咨询" in page and "方便出行" in page
    for q in ["", "AND", "*", '"', "title:", "((", "公交" * 5000, "%00x"]:
        response = client.get("/search/", query_string={"q": q, "category": "no-such", "page": "-3"})
        assert response.status_code < 500
    assert "缩短" in client.get("/search/", query_string={"q": "公交" * 5000}).get_data(as_text=True)
    assert "请输入" in client.get("/search/?q=").get_data(as_text=True)


def _write_from_process(index_dir: str, start: int, count: int) -> None:
    backend = backend_from_config({"SEARCH_INDEX_DIR": index_dir})
    for i in range(start, start + count):  # one commit per document: as many lock contentions as possible
        backend.index([SearchDocument(i, f"第{i}号建议：增设停车位", "小区停车难，建议增设停车位。", 1, 1, "urban",
                                      "suggestion", "published", "", datetime(2026, 1, 1, tzinfo=UTC), 0)])


def test_four_processes_write_at_once_without_lock_errors_or_lost_documents(tmp_path):
    index_dir = str(tmp_path / "ix")
    backend_from_config({"SEARCH_INDEX_DIR": index_dir})  # create the index once
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_from_process, args=(index_dir, n * 100, 25)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    backend = backend_from_config({"SEARCH_INDEX_DIR": index_dir})
    assert backend.doc_count() == 100
    assert backend.search(SearchQuery(text="停车位", per_page=200)).total == 100


def test_campaigns_and_bodies_are_searchable_but_drafts_are_not(client):
    body = make_body(name="临川市交通运输局", region="江南省临川市")
    make_campaign(body, title="临川市公交线网优化意见征集")
    make_campaign(body, title="临川市出租车管理办法草案征集", status="draft")
    page = text_of(client.get("/search/?q=臨川 公交").get_data(as_text=True))  # Traditional input
    assert "临川市公交线网优化意见征集" in page
    assert "出租车管理办法" not in page
    page = text_of(client.get("/search/?q=交通运输局").get_data(as_text=True))
    assert "临川市交通运输局" in page and "没有找到" not in page
    page = text_of(client.get("/search/?q=出租车").get_data(as_text=True))
    assert "出租车管理办法" not in page


def test_votes_reach_the_index_in_batches(app, client):
    campaign = make_campaign()
    first = make_suggestion(campaign, title="建议增设小区停车位（一）")
    second = make_suggestion(campaign, title="建议增设小区停车位（二）")
    services.vote(make_user(), first, 1)
    db.session.commit()
    drain(get_backend())

    def most_supported() -> int:
        return get_backend().search(SearchQuery(text="停车位", sort="supported")).hits[0].id

    login(client, make_user())
    assert client.post(f"/suggestions/{second.id}/vote", data={"value": "support"}).status_code == 303
    assert queued() == 1                      # a counter change waits for the next batch
    assert most_supported() == first.id      # the index still has the old counts (1 against 0)
    app.config["SEARCH_COUNTERS_DELAY"] = 0  # the batch is due: the next vote's request drains the queue
    login(client, make_user())
    assert client.post(f"/suggestions/{second.id}/vote", data={"value": "support"}).status_code == 303
    assert queued() == 0
    assert most_supported() == second.id


def test_the_postgres_backend_serves_the_app(app, client, backend):
    """Several app servers sharing one PostgreSQL database search it through the same queue and page."""
    if backend != "postgres":
        pytest.skip("the PostgreSQL search backend runs in the PostgreSQL suite")
    app.config["SEARCH_BACKEND"] = "postgres"
    app.extensions.pop("search_backend", None)
    get_backend().clear()
    campaign = make_campaign()
    login(client, make_user())
    assert client.post(f"/suggestions/new/{campaign.id}", data=GOOD).status_code == 303
    page = client.get("/search/?q=充電樁").get_data(as_text=True)
    assert "增设充电桩" in text_of(page) and '<mark class="hl' in page
    suggestion_id = found("充电桩")[0]
    services.hide_suggestion(make_user(role="moderator"), db.session.get(Suggestion, suggestion_id), "测试")
    db.session.commit()
    drain(get_backend())
    assert found("充电桩") == []
    get_backend().index([])  # nothing to write is not an error
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "0 proposals indexed" in result.output


def test_catch_up_rebuilds_an_index_made_by_another_tokeniser_version(app):
    kept = make_suggestion(title="关于老旧小区加装电梯的建议")
    db.session.commit()
    backend = get_backend()
    drain(backend)
    with open(backend._version_path, "w") as handle:  # an index left by an older release
        handle.write("1")
    assert not backend.is_current()
    result = app.test_cli_runner().invoke(args=["search", "catch-up"])
    assert result.exit_code == 0, result.output
    assert backend.is_current() and found("加装电梯") == [kept.id]
