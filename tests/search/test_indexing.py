"""The index follows committed data: after-commit indexing through a queue table, catch-up after a crash,
a full rebuild, hidden proposals leaving the index, and several processes writing at once."""
import multiprocessing
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from core.extensions import db
from search.backend import SearchDocument, SearchQuery, backend_from_config
from search.indexing import drain, get_backend
from search.models import SearchQueue
from suggestions import services
from tests.conftest import login
from tests.factories import make_campaign, make_suggestion, make_user

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
