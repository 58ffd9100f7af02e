"""The search backend contract on real Chinese text, run against Whoosh and (when the PostgreSQL suite is
configured) the PostgreSQL backend: the same tests, the same expected results."""
from datetime import UTC, datetime, timedelta

import pytest

from search.backend import SearchDocument, SearchQuery, backend_from_config
from tests.conftest import POSTGRES_URL

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DOCS = [
    (1, "小区停车难问题亟待解决", "锦绣华庭小区车位太少，晚上回家停车非常困难，车只能停在消防通道上。", "urban", "complaint", 1, 12),
    (2, "建议在城南小学门口增设护学岗", "每天放学时段城南小学门口车辆拥堵，学生过马路很危险。", "education", "suggestion", 1, 30),
    (3, "關於增設公交線路的建議", "建議開通錦繡華庭到火車站的公交線路，方便居民出行。", "transport", "suggestion", 2, 7),
    (4, "老旧小区加装电梯补贴标准能否提高", "我们小区都是六层楼房，没有电梯，老人上下楼很困难。", "urban", "question", 2, 3),
    (5, "夜市噪音扰民", "人民路夜市每天营业到凌晨两点，噪音很大，附近居民无法休息。", "environment", "complaint", 1, 0),
]


SEARCH_BACKENDS = ["whoosh"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(params=SEARCH_BACKENDS)
def backend(request, tmp_path):
    """The backend under test, holding DOCS (the fixture is named "backend" so the PostgreSQL suite counts it)."""
    if request.param == "whoosh":
        b = backend_from_config({"SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": str(tmp_path / "ix")})
    else:
        b = backend_from_config({"SEARCH_BACKEND": "postgres",
                                 "SEARCH_DATABASE_URL": request.getfixturevalue("postgres_database")})
        b.clear()
    b.index(SearchDocument(id=i, title=t, body=body, campaign_id=c, body_id=c, category=cat, message_type=mt,
                           status="published", region="江南省临川市", created_at=NOW - timedelta(days=i),
                           support_count=support)
            for i, t, body, cat, mt, c, support in DOCS)
    return b


def ids(backend, text, **kwargs) -> list[int]:
    return [hit.id for hit in backend.search(SearchQuery(text=text, **kwargs)).hits]


def test_words_in_another_order_or_segmentation_are_found(backend):
    assert ids(backend, "停车难") == [1]
    assert ids(backend, "停车 小区") == [1]          # other order, separate words
    assert ids(backend, "小区停车") == [1]           # one run, segmented by jieba
    assert set(ids(backend, "小区")) == {1, 4}


def test_traditional_query_finds_simplified_text_and_the_reverse(backend):
    assert ids(backend, "停車難") == [1]
    assert ids(backend, "公交线路") == [3]           # the document is in Traditional characters
    assert set(ids(backend, "錦繡華庭")) == {1, 3}  # jieba cuts 锦绣华庭 differently in doc 3's sentence


def test_filters_are_exact(backend):
    assert ids(backend, "小区", filters={"category": "urban", "message_type": "question"}) == [4]
    assert ids(backend, "小区", filters={"campaign_id": 1}) == [1]
    assert ids(backend, "小区", filters={"category": "transport"}) == []


def test_sorting_and_facets(backend):
    assert ids(backend, "小区", sort="supported") == [1, 4]
    assert ids(backend, "小区", sort="newest") == [1, 4]
    result = backend.search(SearchQuery(text="建议"))
    assert result.facets["category"] == {"education": 1, "transport": 1}


def test_highlights_are_escaped_html_marks(backend):
    b = backend
    b.clear()
    b.index([SearchDocument(9, "<script>停车</script>难", "停车<b>难</b>", 1, 1, "urban", "complaint", "published",
                            "", NOW, 0)])
    hit = b.search(SearchQuery(text="停车")).hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert '<mark class="hl' in hit.title_html


def test_delete_removes_documents_even_from_a_searcher_already_open(backend):
    assert ids(backend, "停车难") == [1]  # opens this thread's searcher
    backend.delete([1, 999])
    assert ids(backend, "停车难") == []


def test_pagination(backend):
    first = backend.search(SearchQuery(text="小区", per_page=1, page=1, sort="supported"))
    second = backend.search(SearchQuery(text="小区", per_page=1, page=2, sort="supported"))
    past = backend.search(SearchQuery(text="小区", per_page=1, page=9))
    assert first.total == 2 and first.pages == 2
    assert [h.id for h in first.hits + second.hits] == [1, 4]
    assert past.hits == []


BAD_QUERIES = ["", "   ", "AND", "OR NOT", "*", "?", "title:", "body:停车", '"unbalanced', "(((", ")", "[a TO",
               "停车" * 5000, "\u3000\u3000", "！！！", "<script>", "%00", "\\", "停车 AND (小区"]


@pytest.mark.parametrize("text", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
def test_bad_queries_give_a_result_not_an_error(backend, text):
    result = backend.search(SearchQuery(text=text))
    assert result.total >= 0 and isinstance(result.hits, list)


def test_an_unknown_word_is_matched_and_marked_where_it_stands(backend):
    """jieba splits 护学岗 into single characters; their adjacent pairs keep the word together."""
    backend.index([SearchDocument(9, "城南小学应设护学岗", "放学时段车辆拥堵，建议安排护学岗。", 1, 1, "education",
                                  "suggestion", "published", "", NOW, 0)])
    hits = {hit.id: hit for hit in backend.search(SearchQuery(text="護學崗")).hits}
    assert set(hits) == {2, 9}
    hit = hits[9]
    assert '<mark class="hl">护学岗</mark>' in hit.title_html
    assert '小<mark class="hl">学</mark>' not in hit.title_html


def test_every_query_path_after_updates_and_deletes(backend):
    """Whoosh keeps a segment with deleted documents (every update is a delete plus an add) and wraps its postings;
    words, filters, facets and sorting must read through that, for words never searched before as well."""
    def doc(i, title, body, support=0, status="published"):
        return SearchDocument(id=i, title=title, body=body, campaign_id=1 + i % 2, body_id=1, category="urban",
                              message_type="suggestion", status=status, region="江南省", created_at=NOW - timedelta(days=i),
                              support_count=support)

    backend.index([doc(i, f"关于第{i}号楼停车和路灯的建议", "小区停车难，路灯不亮，垃圾清运不及时。") for i in range(100, 400)],
                  replace=False, processes=2)
    backend.index([doc(150, "关于第150号楼停车和路灯的建议", "小区停车难，路灯不亮，垃圾清运不及时。", support=9, status="accepted")])
    backend.delete([151, 152])
    for word in ("路灯", "垃圾", "清运"):  # searched for the first time after the deletions
        result = backend.search(SearchQuery(text=word, sort="supported", per_page=500))
        assert result.total == 298 and len({h.id for h in result.hits}) == 298, word
        assert result.hits[0].id == 150 and not {151, 152} & {h.id for h in result.hits}
        assert result.facets["status"] == {"published": 297, "accepted": 1}
    assert ids(backend, "垃圾", filters={"status": "accepted"}) == [150]
    assert len(ids(backend, "路灯 垃圾", filters={"campaign_id": 2}, per_page=500)) == 149


def test_a_word_in_very_many_proposals_is_sampled_in_the_order_asked_and_said_to_be_approximate(backend, monkeypatch):
    import search.postgres_backend

    monkeypatch.setattr(search.postgres_backend, "MATCH_SAMPLE", 20)  # "very many" is more than 20 here
    ids_used = [64 * i for i in range(1, 201)]  # 200 proposals, each in a run of ids of its own (see bucket_of)
    backend.index([SearchDocument(id=i, title=f"关于第{i}号路口停车难的建议", body="路口停车难，车辆乱停。",
                                  campaign_id=1 + n % 2, body_id=1, category="urban", message_type="suggestion",
                                  status="published" if n % 4 else "accepted", region="",
                                  created_at=NOW - timedelta(hours=n), support_count=n % 7)
                   for n, i in enumerate(ids_used)])
    if isinstance(backend, search.postgres_backend.PostgresBackend):
        with backend.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE search.proposal_words")  # the planner's estimate decides
    newest = backend.search(SearchQuery(text="路口", sort="newest", per_page=5))
    assert [h.id for h in newest.hits] == ids_used[:5]  # the newest really are first
    supported = backend.search(SearchQuery(text="路口", sort="supported", per_page=3))
    assert [h.id for h in supported.hits] == [ids_used[n] for n in (195, 188, 181)]  # support 6, highest id first
    best = [h.id for h in backend.search(SearchQuery(text="路口 停车", per_page=500)).hits]
    assert best and set(best) <= set(ids_used)
    if isinstance(backend, search.postgres_backend.PostgresBackend):
        assert len(best) < 200  # relevance over very many matches ranks the sample, a few buckets of the 64
        assert newest.approximate and 100 <= newest.total <= 320  # scaled from the sample: about 200
        assert abs(sum(newest.facets["status"].values()) - newest.total) <= 2
        # the sample is spread over the matches, not the first rows found: both campaigns, both statuses
        assert len(newest.facets["campaign_id"]) == 2 and newest.facets["status"]["published"] > \
            newest.facets["status"]["accepted"] > 0
        rare = backend.search(SearchQuery(text="停车难", filters={"campaign_id": 3}))
        assert not rare.approximate and rare.total == 0
    else:  # Whoosh answers every match exactly with numpy: the count is cheap there
        assert not newest.approximate and newest.total == 200 and len(best) == 200


def test_buckets_hold_an_even_share_of_ids_in_runs_that_share_table_pages():
    from collections import Counter

    from search.postgres_backend import BUCKETS, bucket_of

    counts = Counter(bucket_of(i) for i in range(1, 640_001))
    assert len(counts) == BUCKETS and max(counts.values()) < 1.25 * 10_000 and min(counts.values()) > 0.75 * 10_000
    assert len({bucket_of(i) for i in range(64 * 7, 64 * 8)}) == 1  # a run of 64 consecutive ids: one bucket
