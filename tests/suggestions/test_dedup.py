"""The near-duplicate engine (suggestions.dedup) on real Chinese proposals written for these tests."""
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from suggestions import dedup, dedup_scale

# (id, text, author). Variants of one proposal share the tens digit: 10/11/12, 20/21, ...
PROPOSALS = [
    (10, "建议在人民路与解放路交叉口增设红绿灯，早晚高峰行人过马路非常危险，去年已经发生过两起事故。", "u1"),
    (11, "尊敬的领导您好！人民路和解放路交叉口早晚高峰行人过马路很危险，去年发生过两起事故，建议增设红绿灯。谢谢", "u2"),
    (12, "建議在人民路與解放路交叉口增設紅綠燈，早晚高峰行人過馬路非常危險，去年已經發生過兩起事故。", "u3"),
    (20, "幸福小区没有电梯，住在六楼的老人上下楼非常困难，希望政府补贴老旧小区加装电梯，简化审批手续。", "u4"),
    (21, "领导好，幸福小区住六楼的老人上下楼非常困难，小区没有电梯。希望简化审批手续，政府补贴老旧小区加装电梯。望采纳", "u5"),
    (30, "实验小学门口每天放学时家长车辆乱停，校门口交通严重拥堵，建议设置临时接送停车区并安排交警疏导。", "u6"),
    (31, "實驗小學門口每天放學時家長車輛亂停，校門口交通嚴重擁堵，建議設置臨時接送停車區並安排交警疏導。", "u7"),
    (40, "东湖公园夜间广场舞音响声音太大，一直跳到晚上十点以后，周边居民无法休息，请规定音量和结束时间。", "u8"),
    (41, "您好，东湖公园晚上广场舞音响声音太大了，一直跳到十点以后，周边居民根本无法休息，请规定音量和结束时间。此致敬礼", "u9"),
    # same topics, different proposals: must stay apart from the groups above
    (50, "建议延长人民路公交站的末班车时间，下夜班的工人经常赶不上最后一班车，只能步行回家。", "u10"),
    (51, "幸福小区的垃圾桶经常满了没人清运，夏天臭气熏天，希望物业增加清运次数。", "u11"),
    (52, "实验小学的课后托管收费太高，一个月要八百元，希望教育部门规范收费标准。", "u12"),
    (53, "东湖公园的公共厕所太少而且很脏，周末游客多时要排长队，建议增建厕所并加强保洁。", "u13"),
    (54, "城南医院挂号排队时间太长，老人不会用手机预约，建议保留人工挂号窗口。", "u14"),
    (55, "农贸市场周边占道经营严重，三轮车和摊位把路堵死了，建议划定临时摊位区域统一管理。", "u15"),
    (56, "希望在滨江路沿线增加共享单车停放点，现在车辆乱停乱放影响行人通行。", "u16"),
    (57, "新建的第二中学离居民区太远，孩子上学要坐四十分钟公交，建议开通学生专线。", "u17"),
]
TEXT = {i: t for i, t, _ in PROPOSALS}
GROUPS = {10: 1, 11: 1, 12: 1, 20: 2, 21: 2, 30: 3, 31: 3, 40: 4, 41: 4}


def partition(result):
    return {i: result.labels()[i] for i, _, _ in PROPOSALS}


@pytest.fixture(scope="module")
def index():
    return dedup.Index(PROPOSALS)


def test_normalise_drops_greetings_and_folds_traditional_and_width():
    assert dedup.normalise("尊敬的领导您好！停車難，ＡＢＣ　１２３。谢谢！望采纳") == "停车难 abc 123"
    assert dedup.normalise("停車難") == dedup.normalise("停车难")
    assert dedup.normalise("领导好，小区停车难。希望领导重视") == "小区停车难"


def test_variants_score_above_threshold_and_unrelated_same_topic_below():
    a = [TEXT[10], TEXT[10], TEXT[20], TEXT[10], TEXT[51]]
    b = [TEXT[12], TEXT[11], TEXT[21], TEXT[50], TEXT[20]]
    scores = dedup.pair_similarities(a, b)
    assert scores[0] > 0.95  # Traditional copy
    assert min(scores[:3]) >= dedup.THRESHOLD
    assert max(scores[3:]) < dedup.THRESHOLD


def test_top_k_finds_the_variant_first(index):
    hits = index.query("人民路解放路交叉口早晚高峰过马路危险，去年两起事故，建议加装红绿灯", k=5)
    assert hits[0].id in (10, 11, 12)
    assert {h.id for h in hits[:3]} == {10, 11, 12}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_exact_duplicate_and_same_author_repost_are_labelled(index):
    exact = index.query(TEXT[30] + "谢谢！", k=1, author="someone else")[0]
    assert (exact.id, exact.kind) == (30, "exact")
    repost = index.query("尊敬的领导：" + TEXT[40], k=1, author="u8")[0]
    assert (repost.id, repost.kind) == (40, "same_author_repost")
    assert index.query(TEXT[57], k=1, exclude={57})[0].kind == "related"


def test_remove_makes_an_item_disappear_and_add_makes_one_appear():
    index = dedup.Index(PROPOSALS)
    index.remove(12)
    assert 12 not in {h.id for h in index.query(TEXT[12], k=10)}
    assert 12 not in index and len(index) == len(PROPOSALS) - 1
    index.add(99, "人民路與解放路交叉口應增設紅綠燈，行人過馬路太危險", "u99")
    assert index.query("人民路解放路交叉口增设红绿灯", k=5)[0].id in (10, 11, 99)
    assert 99 in {h.id for h in index.query("人民路解放路交叉口增设红绿灯", k=5)}
    index.refit()
    assert 99 in index and 12 not in index
    assert 99 in {h.id for h in index.query("人民路解放路交叉口增设红绿灯", k=5)}


def test_cluster_groups_variants_and_keeps_same_topic_proposals_apart():
    labels = partition(dedup.cluster(PROPOSALS))
    for group in set(GROUPS.values()):
        members = [i for i, g in GROUPS.items() if g == group]
        assert len({labels[i] for i in members}) == 1, members
    singles = [i for i, _, _ in PROPOSALS if i not in GROUPS]
    assert len({labels[i] for i in singles}) == len(singles)
    assert len(set(labels.values())) == len(set(GROUPS.values())) + len(singles)


def test_cluster_labels_members_against_the_representative():
    items = [(1, TEXT[30], "a"), (2, TEXT[30] + "谢谢", "b"), (3, "您好！" + TEXT[30], "a"), (4, TEXT[31], "c")]
    kinds = {m.id: (m.cluster, m.kind) for m in dedup.cluster(items).members}
    assert kinds == {1: (1, "representative"), 2: (1, "exact"), 3: (1, "same_author_repost"), 4: (1, "exact")}


def test_chaining_guard_keeps_the_ends_of_a_chain_apart():
    a = "人民路交叉口增设红绿灯，早晚高峰行人过马路非常危险，去年发生过两起事故。"
    c = "滨江公园公共厕所太少而且很脏，周末游客多时要排长队，建议增建厕所。"
    b = a + c  # one proposal raising both matters links the two unrelated ones
    a_b, b_c, a_c = dedup.pair_similarities([a, b, a], [b, c, c])
    assert a_b >= dedup.THRESHOLD and b_c >= dedup.THRESHOLD and a_c < dedup.THRESHOLD
    labels = dedup.cluster([(1, a, None), (2, b, None), (3, c, None)]).labels()
    assert labels[1] != labels[3]


def test_pinned_decisions_are_honoured():
    pins = dedup.Pins(together=[(50, 53)], apart=[(10, 11)], representatives=[41])
    result = dedup.cluster(PROPOSALS, pins=pins)
    labels = result.labels()
    assert labels[50] == labels[53]
    assert labels[10] != labels[11]
    assert labels[41] == 41 and labels[40] == 41  # 41 is the representative and 40 still joins it
    kinds = {m.id: m.kind for m in result.members}
    assert kinds[41] == "representative" and kinds[53] == "pinned"


def test_pins_that_contradict_each_other_are_refused():
    with pytest.raises(ValueError):
        dedup.cluster(PROPOSALS, pins=dedup.Pins(together=[(10, 11)], apart=[(10, 11)]))


def test_incremental_assignment_agrees_with_batch():
    """Batch-cluster all items; separately batch the first ones and assign the rest one by one.

    Both use the same rule (join the most similar representative at or above the threshold), so they should
    agree; small differences could only come from idf fitted on fewer texts and from candidate generation.
    """
    batch = partition(dedup.cluster(PROPOSALS))
    order = [10, 20, 30, 40, 50, 51, 52, 53, 54, 11, 55, 56, 57, 21, 31, 41, 12]
    items = sorted(PROPOSALS, key=lambda p: order.index(p[0]))
    first, later = items[:9], items[9:]
    membership = dedup.cluster(first).labels()
    representatives = {c: c for c in set(membership.values())}
    index = dedup.Index(first)
    for item_id, text, author in later:
        index.add(item_id, text, author)
        placed = dedup.assign(index, item_id, membership=membership, representatives=representatives)
        membership[item_id] = placed.cluster if placed.cluster is not None else item_id
        representatives.setdefault(membership[item_id], item_id)
    ids = [i for i, _, _ in PROPOSALS]
    ari = adjusted_rand_score([batch[i] for i in ids], [membership[i] for i in ids])
    assert ari >= 0.95


def test_cluster_reusing_an_index_matches_clustering_from_text(index):
    assert partition(dedup.cluster(PROPOSALS, index=index)) == partition(dedup.cluster(PROPOSALS))


def test_short_texts_are_scored_by_the_dot_product_like_long_ones():
    """No short-text penalty (issue 13: fitted on LCQMC dev, it lowered F1 on held-out pairs): a short copy in
    Traditional still scores 1 and reworded sentences reach the threshold."""
    a = ["北京今天下雨吗", "小区停车难", "人民路的路灯坏了好几天了", "幼儿园什么时候开始报名"]
    b = ["北京明天下雪吗", "小區停車難", "人民路路灯坏了好几天没人修", "幼儿园报名什么时候开始"]
    scores = dedup.pair_similarities(a, b)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[1] > 0.99
    assert min(scores[2:]) >= dedup.THRESHOLD > scores[0]


def test_the_index_finds_a_short_copy_first_and_calls_it_exact():
    index = dedup.Index([(1, "南京今天下雨吗", None), (2, "北京明天下雪吗", None), (3, TEXT[10], None)])
    hits = {h.id: h for h in index.query("北京今天下雨吗", k=3)}
    assert {1, 2} <= set(hits) and 3 not in hits  # listed when they share characters, not otherwise
    assert [h.id for h in index.query("南京今天下雨吗。", k=1)] == [1]
    assert index.query("南京今天下雨吗。", k=1)[0].kind == "exact"


def test_idf_saturates_so_a_big_campaign_does_not_weigh_one_off_features_ever_higher():
    df = np.array([1, 2, 50, 500, 50_000], dtype=np.int32)
    big = dedup.Featuriser(df, 1_000_000).idf
    assert big[0] == big[1] == big[2] > big[3] > big[4]  # rarer than 1 text in IDF_RARITY: all alike
    small = dedup.Featuriser(df, 10_000).idf
    assert small[0] > small[1] > small[2]  # a campaign under IDF_RARITY texts is unaffected


def test_keywords_name_what_a_cluster_is_about():
    words = dedup.keywords([TEXT[10], TEXT[11], TEXT[12]], k=5)
    assert len(words) == 5 and "红绿灯" in words
    assert not {"建议", "谢谢", "尊敬"} & set(words)


def test_keywords_are_words_not_fragments_or_numerals():
    """The newcomer saw 村村, 十二三, 好几起 and 过划车 as cluster keywords; a word jieba guesses (下湾, 护学岗) counts
    only when two members use it."""
    texts = ["下湾村村口的减速带被压坏了十二三处，好几起事故了，过划车的司机根本不减速。",
             "下湾村村口减速带损坏，一个多月了没人修，好几起剐蹭事故。"]
    words = dedup.keywords(texts, k=5)
    assert "减速带" in words and "下湾" in words
    assert not {"村村", "十二三", "好几起", "过划车", "多月", "剐蹭事故"} & set(words)
    assert "护学岗" in dedup.keywords(["城南小学门口增设护学岗", "城南小学门口急需设置护学岗，学生过马路危险"])


def test_compact_campaign_rows_weigh_exactly_like_the_featuriser():
    texts = [t for _, t, _ in PROPOSALS]
    featuriser, rows = dedup.Featuriser.fit([dedup.normalise(t) for t in texts])
    compact = dedup_scale.CompactRows(texts)
    assert (compact.featuriser.df == featuriser.df).all()
    assert abs(compact.weighted(np.arange(len(texts))) - rows).max() < 1e-6
    i, j = np.triu_indices(len(texts), 1)
    lengths = [len(dedup.exact_key(dedup.normalise(t))) for t in texts]
    assert compact.lengths.tolist() == lengths
    expected = dedup_scale.pair_dots(dedup_scale.CsrRows(rows, featuriser, lengths), i, j)
    assert np.abs(dedup_scale.pair_dots(compact, i, j) - expected).max() < 1e-6
    # the forked path (several chunks, two processes) gives the same rows and scores
    forked = dedup_scale.CompactRows(texts, n_jobs=2, chunk=4)
    assert (forked.indices == compact.indices).all() and (forked.digests == compact.digests).all()
    assert np.abs(dedup_scale.pair_dots(forked, i, j, n_jobs=2, chunk=20) - expected).max() < 1e-6



FORKED_UNDER_A_JOB_WORKER = """
import signal
from suggestions.dedup_scale import CompactRows, map_in_slices

def fail_at_three(values):
    if 3 in values:
        raise ValueError("a slice failed")
    return values

signal.signal(signal.SIGTERM, lambda *_: None)  # as RQ's worker: a stop is asked for, nothing stops
print(map_in_slices(fail_at_three, [0, 1, 2], 2, 1))
print(len(CompactRows(["建议在锦绣华庭小区增设停车位"] * 6, n_jobs=2, chunk=2)))
try:
    map_in_slices(fail_at_three, list(range(10)), 2, 2)
except ValueError as error:
    print(error)
"""


def test_forked_processes_stop_when_their_pool_ends_even_under_a_job_workers_signal_handlers():
    """The nightly re-clustering forks inside the job worker, whose SIGTERM handler only asks for a stop. The
    forked processes must not keep it: a pool that ends (or fails) terminates them with SIGTERM and waits."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    run = subprocess.Popen([sys.executable, "-c", FORKED_UNDER_A_JOB_WORKER], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
                           start_new_session=True)
    try:
        out, err = run.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # the forked processes too
        run.communicate()
        raise AssertionError("a pool waited for ever for processes that ignore SIGTERM") from None
    assert run.returncode == 0, err
    assert out.splitlines() == ["[0, 1, 2]", "6", "a slice failed"]

def test_candidates_cover_the_variants_and_pair_exact_duplicates():
    items = PROPOSALS + [(90, TEXT[50], "u20"), (91, "尊敬的领导：" + TEXT[50], "u21")]
    rows = dedup_scale.CompactRows([t for _, t, _ in items])
    sketch = dedup_scale._sketch(rows, rows.featuriser.df, top_k=8)
    assert np.diff(sketch.indptr).max() <= 8
    assert (rows.featuriser.df[sketch.indices] >= 2).all() and (sketch.indices >= dedup._CANDIDATE_START).all()
    i, j = dedup_scale.candidate_pairs(rows, rows.featuriser.df, rows.digests)
    found = {(items[a][0], items[b][0]) for a, b in zip(i.tolist(), j.tolist(), strict=True)}
    assert {(10, 11), (10, 12), (20, 21), (30, 31), (40, 41), (50, 90), (50, 91), (90, 91)} <= found
    # the sketch product in chunks shared out among two worker processes finds the same pairs
    forked = dedup_scale.candidate_pairs(rows, rows.featuriser.df, rows.digests, n_jobs=2, work=40)
    assert (forked[0] == i).all() and (forked[1] == j).all()
    result = dedup.cluster(items)
    assert result.labels()[90] == result.labels()[91] == 50
    assert {m.id: m.kind for m in result.members}[91] == "exact"


def test_a_query_reads_the_rarest_postings_first_within_its_budget():
    """A large campaign's query reads only POSTINGS_BUDGET postings, rarest first: the copy is still found when
    the budget is far smaller than what the template's common n-grams hold (400 rows each)."""
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    estates = [f"{a}{b}家园" for a in surnames for b in surnames if a != b][:400]
    items = [(k, f"{name}小区门口的路灯坏了很久了，晚上走路很危险，老人孩子经常摔倒，请尽快修理。", None)
             for k, name in enumerate(estates)]
    index = dedup.Index(items, max_df=1.0)  # every n-gram may be read: the budget alone chooses
    index.postings_budget, index.n_candidates = 30, 5
    hit = index.query(f"{estates[123]}小区门口路灯坏了好久，晚上走路很危险，请有关部门尽快修理", k=3)[0]
    assert hit.id == 123


def test_keywords_keep_a_shared_name_whole_and_drop_its_pieces():
    """锦绣华庭 is one keyword, not 锦绣 and 华庭; a name jieba cuts wrongly (李家岗村 → 李家 / 岗村) is kept whole,
    and a mis-split like 费都付 (物业费都付了) is not a keyword."""
    parking = dedup.keywords(["建议在锦绣华庭小区增设停车位，晚上车只能停在消防通道上。",
                              "锦绣华庭小区停车难，消防通道被占，建议增设停车位。"])
    assert "锦绣华庭" in parking and not {"锦绣", "华庭"} & set(parking)
    lights = dedup.keywords(["李家岗村的物业费都付了，路灯还是不亮", "李家岗村物业费都付了，路灯一直不亮，晚上出行不便"])
    assert "李家岗" in lights and "路灯" in lights and not {"岗村", "费都付"} & set(lights)
