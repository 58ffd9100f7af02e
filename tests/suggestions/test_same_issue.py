"""The same-issue score's pieces on Chinese text the project wrote: place names, their conflicts, the features
and a model trained on a few labelled pairs; and the benchmark's grouping of connected pairs."""
import math
from collections import Counter

import numpy as np
import pytest

from suggestions.issue_text_words import Text, _words, texts_of_pairs
from suggestions.issue_texts import FEATURES, Background, IssueTexts, shipped_background
from suggestions.places import mine_place_names, place_names
from suggestions.same_issue import (
    SHIPPED_MODEL,
    SameIssueModel,
    connected_groups,
    group_weights,
    issue_probabilities,
    through_one_other,
)

ESTATE_TEXTS = [
    "翠湖花园小区门口的下水道堵了，一下雨就积水。",
    "翠湖花园小区东门外路面积水严重，老人出门要蹚水。",
    "请尽快疏通翠湖花园小区门口的排水管。",
    "金桂苑小区楼下烧烤摊油烟太大，晚上吵到凌晨。",
    "金桂苑小区临街店铺油烟直排，窗户都不敢开。",
    "建议在金桂苑小区附近增设公交站。",
]


def test_place_names_are_the_names_the_corpus_repeats_before_a_place_suffix():
    counts = mine_place_names(ESTATE_TEXTS)
    assert "翠湖花园" in place_names("翠湖花园小区门口又积水了", counts)
    assert "金桂苑" in place_names("投诉金桂苑小区油烟扰民", counts)
    assert place_names("小区门口又积水了", counts) == set()  # no name, only the suffix


def test_the_same_complaint_about_another_estate_is_a_conflict_and_the_same_estate_agrees():
    same_estate = (Text("翠湖花园小区门口积水", "翠湖花园小区门口一下雨就积水，请疏通下水道。"),
                   Text("翠湖花园东门外路面淹水", "翠湖花园小区东门外排水不畅，路面常年积水。"))
    other_estate = (Text("翠湖花园小区门口积水", "翠湖花园小区门口一下雨就积水，请疏通下水道。"),
                    Text("金桂苑小区门口积水", "金桂苑小区门口一下雨就积水，请疏通下水道。"))
    corpus = [Text("", text) for text in ESTATE_TEXTS] + [*same_estate, other_estate[1]]
    at = {text: k for k, text in enumerate(corpus)}
    rows = IssueTexts(corpus).features([at[same_estate[0]], at[other_estate[0]]],
                                       [at[same_estate[1]], at[other_estate[1]]])
    assert rows.shape == (2, len(FEATURES))
    conflict, least = FEATURES.index("names_conflict"), FEATURES.index("names_least")
    assert rows[0, conflict] == 0 and rows[0, least] > 0.5
    assert rows[1, conflict] == 1 and rows[1, least] == 0
    copies = FEATURES.index("copies_score")
    assert rows[1, copies] > rows[0, copies]  # the template reads closer: why one cosine is not enough


def test_words_about_where_one_lives_are_no_place_name():
    # "我家住在东湖区" read a place called 家住在东 before 湖, so two drains at "our estate's gate", one of them
    # saying where its writer lives, looked like two places and were never offered as the same issue
    texts = ["我家住在东湖区一个老小区，小区门口的下水道口经常被堵住。", "我家住在东湖区，门口路灯不亮。",
             "翠湖花园小区门口的下水道堵了，一下雨就积水。", "翠湖花园小区东门外路面积水严重。"]
    counts = mine_place_names(texts)
    assert not place_names(texts[0], counts)
    assert "翠湖花园" in place_names(texts[2], counts)


def _estates_model_and_unseen_probabilities() -> tuple[SameIssueModel, np.ndarray]:
    """A model trained on one problem at five estates (the same problem in other words: 1; the same words at the
    next estate: 0), and its probabilities for a sixth estate's pair of each kind."""
    estates = ["翠湖花园", "金桂苑", "银杏家园", "枫林新村", "桃源小区", "松鹤公寓"]
    problems = [("门口积水", "门口一下雨就积水，请尽快疏通下水道。", "门前路面淹水", "门外排水不畅，路面常年积水没人管。"),
                ("油烟扰民", "楼下烧烤摊油烟太大，晚上吵到凌晨。", "烧烤摊油烟直排", "临街烧烤店油烟直排，窗户都不敢开。"),
                ("电梯故障", "电梯一个月坏了三次，老人被困过。", "电梯经常停运", "电梯隔三差五停运，维修也不及时。")]
    pairs, labels = [], []
    for i, estate in enumerate(estates[:-1]):
        for title, body, other_title, other_body in problems:
            pairs.append((Text(estate + title, estate + body), Text(estate + other_title, estate + other_body)))
            labels.append(1)
            other = estates[i + 1]
            pairs.append((Text(estate + title, estate + body), Text(other + title, other + body)))
            labels.append(0)
    held_out = estates[-1]
    unseen = [
        (Text(held_out + "门口积水", held_out + "门口一下雨就积水，请尽快疏通下水道。"),
         Text(held_out + "门前路面淹水", held_out + "门外排水不畅，路面常年积水没人管。")),
        (Text(held_out + "门口积水", held_out + "门口一下雨就积水，请尽快疏通下水道。"),
         Text("翠湖花园门口积水", "翠湖花园门口一下雨就积水，请尽快疏通下水道。"))]
    texts, i, j = texts_of_pairs(pairs + unseen)  # one corpus, as a campaign's proposals are
    features = IssueTexts(texts).features(i, j)
    model = SameIssueModel().fit(features[:len(pairs)], np.array(labels))
    return model, model.probability(features[len(pairs):])


def test_a_model_trained_on_labelled_pairs_puts_the_same_issue_above_a_template_about_another_place():
    model, (same, template) = _estates_model_and_unseen_probabilities()
    assert same > model.threshold > template
    assert model.weights()["names_conflict"] < 0


def test_a_saved_model_gives_the_same_probabilities_and_says_what_it_was_trained_on(tmp_path):
    model, _ = _estates_model_and_unseen_probabilities()
    model.trained_on = {"sources": {"test": 30}}
    model.save(tmp_path / "model.json")
    loaded = SameIssueModel.load(tmp_path / "model.json")
    rows = np.random.default_rng(1).random((20, len(FEATURES)))
    assert np.allclose(loaded.probability(rows), model.probability(rows), atol=1e-4)
    assert loaded.trained_on == {"sources": {"test": 30}}


def test_the_shipped_model_loads_and_was_trained_on_the_demos_own_pairs():
    from suggestions.same_issue import SHIPPED_MODEL
    model = SameIssueModel.load(SHIPPED_MODEL)
    assert set(model.trained_on["sources"]) == {"demo.issue_pairs"}
    assert model.weights()["names_conflict"] < 0 < model.weights()["names_least"]


def test_the_shipped_model_is_what_training_on_the_demos_pairs_gives_today():
    # a change to the features (a place word, a tokeniser) must come with the shipped model retrained:
    # flask suggestions train-similarity --demo --no-staff --output suggestions/same_issue_model.json
    from demo.issue_pairs import labelled_pairs
    from suggestions.same_issue import SHIPPED_MODEL, train_model
    shipped = SameIssueModel.load(SHIPPED_MODEL)
    retrained = train_model(labelled_pairs(), {"sources": {"demo.issue_pairs": 1314}})
    assert np.allclose(retrained.coef, shipped.coef, atol=1e-4)
    assert abs(retrained.intercept - shipped.intercept) < 1e-4


def test_pairs_sharing_a_message_directly_or_through_others_form_one_group():
    a, b, c, d = (Text(f"标题{i}", f"正文{i}") for i in range(4))
    groups = connected_groups([(a, b), (c, d), (b, c), (Text("别的", "别的"), Text("另一条", "另一条"))])
    assert groups[0] == groups[1] == groups[2] != groups[3]


def test_each_group_of_connected_pairs_weighs_the_same_in_training():
    """Five pairs labelled around one complaint (connected through its first message) weigh together as much as
    one pair about another issue."""
    hub = Text("丽发新城旁建搅拌站扰民", "丽发新城小区旁边新建搅拌站，噪音粉尘严重。")
    around = [(hub, Text(f"搅拌站扰民第{k}次反映", f"丽发新城附近的搅拌站又在夜间施工，第{k}次反映。")) for k in range(5)]
    alone = [(Text("幸福里社区缺少健身器材", "建议安装健身器材。"), Text("幸福里社区健身器材不足", "希望增加健身设施。"))]
    groups = connected_groups(around + alone)
    assert len(set(groups[:5].tolist())) == 1 and groups[5] != groups[0]
    weights = group_weights(groups)
    assert abs(weights[:5].sum() - weights[5]) < 1e-9 and abs(weights.mean() - 1) < 1e-9


def test_a_pair_takes_its_best_path_through_one_other_text_whose_weaker_link_counts():
    links = {(0, 1): 0.2, (0, 2): 0.9, (1, 2): 0.7, (0, 3): 0.95, (1, 3): 0.0, (2, 3): 0.1}
    probability = lambda a, b: np.array([links[(x, y)] for x, y in zip(a.tolist(), b.tolist(), strict=True)])  # noqa: E731
    scores = through_one_other(np.array([0, 0]), np.array([1, 2]), np.array([0.2, 0.9]), [[1, 2, 3], [1, 2, 3]],
                               probability)
    assert scores.tolist() == [0.7, 0.9]  # 0–2–1's weaker link, not 0–3 (its link to 1 is kept apart: 0)
    assert through_one_other(np.array([0]), np.array([1]), np.array([0.2]), [[]], probability).tolist() == [0.2]


MIXING_PLANT_NOISE = Text("丽发新城旁边搅拌站夜里施工太吵", "丽发新城小区旁边新建的搅拌站每天夜里十二点以后还在作业，"
                          "机器轰鸣，孩子老人都睡不着觉，请管一管。")
MIXING_PLANT_DUST = Text("水泥罐车扬尘", "丽发新城门前每天几百辆水泥罐车进出，路面全是泥浆和灰尘，阳台上每天一层灰，"
                         "窗户都不敢开。")
BOTH_AT_THE_ESTATE = "西侧搅拌厂夜里吵白天扬尘", "小区西侧的混凝土搅拌厂夜里十二点以后还在作业，机器轰鸣睡不着觉；白天扬尘很大，" \
    "阳台上每天一层灰，窗户都不敢开。"
UNRELATED = [Text("建议增设公交站", "建议在东湖路增设一个公交站，方便居民出行。"),
             Text("路灯不亮", "新华路的路灯坏了一个月了没人修。")]


def test_a_third_proposal_about_both_makes_two_in_other_words_the_same_issue_but_not_one_at_another_estate():
    """One mixing plant, one citizen writing of its noise, one of its dust: the shipped model is not sure of the two
    alone; a proposal about both at the same estate vouches for them; the same at another estate does not."""
    model = SameIssueModel.load(SHIPPED_MODEL)
    title, body = BOTH_AT_THE_ESTATE
    alone = issue_probabilities(MIXING_PLANT_NOISE, [MIXING_PLANT_DUST, *UNRELATED], model)[0]
    vouched = issue_probabilities(MIXING_PLANT_NOISE, [MIXING_PLANT_DUST, Text("丽发新城" + title, "丽发新城" + body),
                                                       *UNRELATED], model)[0]
    elsewhere = issue_probabilities(MIXING_PLANT_NOISE, [MIXING_PLANT_DUST, Text("金桂苑" + title, "金桂苑" + body),
                                                         *UNRELATED], model)[0]
    assert alone < model.threshold <= vouched
    assert elsewhere < model.threshold


def test_a_background_weighs_words_common_elsewhere_less_and_an_empty_one_changes_nothing():
    """Among a few texts every word looks about as rare as any other; the counts of other texts (here 门口 in all
    four, 下水道 in none) say which are common."""
    corpus = [Text("", text) for text in ESTATE_TEXTS]
    background = Background.of([Text("", f"{place}小区门口的路灯坏了，晚上看不清路。") for place in ("东湖", "西湖", "南湖")]
                               + [Text("", "建议在城南小学门口增设护学岗。")])
    alone, with_background = IssueTexts(corpus), IssueTexts(corpus, background=background)
    weight = lambda texts, word: texts.word_sets.weights(0)[word]  # noqa: E731
    assert weight(with_background, "门口") - weight(alone, "门口") < weight(with_background, "下水道") - weight(alone, "下水道")
    i, j = [0, 0, 3], [1, 2, 4]
    assert np.array_equal(IssueTexts(corpus, background=Background.nothing()).features(i, j), alone.features(i, j))
    assert not np.array_equal(with_background.features(i, j), alone.features(i, j))


def test_no_path_goes_through_a_link_between_two_places():
    """The same complaint posted for two estates reads alike to the model; a draft about the first is not made the
    same issue as the second through it, since the place rule keeps those two apart."""
    model = SameIssueModel.load(SHIPPED_MODEL)
    body = "小区西侧的工地夜里十二点以后还在施工，机器轰鸣睡不着觉；白天扬尘很大，阳台上每天一层灰，窗户都不敢开。"
    draft = Text("丽发新城小区旁边工地夜里施工太吵", "丽发新城小区旁边的工地每天夜里十二点以后还在施工，机器轰鸣，孩子老人都睡不着觉。")
    first, second = (Text(f"{estate}小区工地夜里吵白天扬尘", estate + body) for estate in ("丽发新城", "金桂苑"))
    texts = [draft, first, second, *UNRELATED]
    alike = model.probability(IssueTexts(texts, background=shipped_background()).features([0, 1], [1, 2]))
    assert (alike >= model.threshold).all()  # the draft and the first estate; the two estates, by the model alone
    scores = issue_probabilities(draft, texts[1:], model)
    assert scores[0] >= model.threshold > scores[1]


def test_the_counts_of_other_texts_weigh_as_if_those_texts_were_in_the_corpus():
    corpus = [Text("", text) for text in ESTATE_TEXTS]
    others = [Text("", f"{place}小区门口的路灯坏了，晚上看不清路。") for place in ("东湖", "西湖", "南湖")]
    i, j = [0, 0, 3, 1], [1, 2, 4, 5]
    together = IssueTexts(corpus + others).features(i, j)
    counted = IssueTexts(corpus, background=Background.of(others)).features(i, j)
    assert np.allclose(together, counted, atol=1e-6)


def test_the_rare_words_shared_are_the_idf_weighted_share_of_both_texts_distinct_words():
    """The share the sparse rows give is the plain definition: idf summed over the words two texts share, over
    the idf summed over the words either holds (idf: scikit-learn's smooth formula over the corpus's texts)."""
    corpus = [Text(text[:8], text) for text in ESTATE_TEXTS]
    texts = IssueTexts(corpus)
    words = [set(_words(text.whole)) for text in corpus]
    title_words = [set(_words(text.title)) for text in corpus]
    df = Counter(word for text_words in words for word in text_words)
    unseen = math.log(len(corpus) + 1) + 1
    idf = {word: math.log((len(corpus) + 1) / (count + 1)) + 1 for word, count in df.items()}

    def share(a: set[str], b: set[str]) -> float:
        common = sum(idf.get(w, unseen) for w in a & b)
        return common / (sum(idf.get(w, unseen) for w in a | b))
    i, j = [0, 0, 1, 3, 2], [1, 2, 2, 4, 5]
    features = texts.features(i, j)
    for row, a, b in zip(features, i, j, strict=True):
        assert row[FEATURES.index("rare_words_shared")] == pytest.approx(share(words[a], words[b]), rel=1e-12)
        assert row[FEATURES.index("title_rare_words_shared")] == pytest.approx(
            share(title_words[a], title_words[b]), rel=1e-12)
    assert texts.word_sets.weights(0) == pytest.approx({word: idf[word] for word in words[0]})
    assert features[1, FEATURES.index("rare_words_shared")] > features[4, FEATURES.index("rare_words_shared")]  # 翠湖花园 both


def test_a_wholes_character_counts_are_its_titles_plus_its_bodys():
    """Why only titles and bodies are counted: the "。" joining them is a clause break, so counting the whole
    (normalised as the copies engine does it: Traditional, full-width, stock greetings) gives the same counts."""
    from demo.content import generate_proposals
    from suggestions.dedup_features import _counts, normalise
    texts = [Text(p["title"], p["body"]) for p in generate_proposals(3, 300)] + [
        Text("尊敬的領導您好", "翠湖花園小區門口積水，謝謝！"), Text("ＡＢＣ停車難。", "此致敬礼"), Text("", "啊"),
        Text("夜市噪音", ""), Text("", ""), Text("此致", "敬礼。路灯坏了")]
    wholes = _counts([normalise(t.whole) for t in texts])
    parts = _counts([normalise(t.title) for t in texts]) + _counts([normalise(t.body) for t in texts])
    assert (wholes != parts).nnz == 0


def test_a_campaigns_character_rows_are_plain_tfidf_however_they_are_counted():
    """The character rows are what scikit-learn's TfidfTransformer(sublinear_tf=True) gives over the wholes'
    idf; a large corpus's document frequencies (counted in slices over the whole hashed space) and renumbered
    columns (a lookup table) equal a small one's (a sort and a binary search)."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from demo.content import generate_proposals
    from suggestions.dedup_features import _counts, normalise
    from suggestions.issue_chars import _document_frequency, _positions
    texts = [Text(p["title"], p["body"]) for p in generate_proposals(5, 400)]
    corpus = IssueTexts(texts, copies_rows_kept=False)
    title = _counts([normalise(t.title) for t in texts])
    body = _counts([normalise(t.body) for t in texts])
    wholes = title + body
    columns, df = _document_frequency(title, body)
    sliced_columns, sliced_df = _document_frequency(title, body, chunk=37)
    assert np.array_equal(columns, sliced_columns) and np.array_equal(df, sliced_df)
    assert np.array_equal(columns, corpus.char_columns) and np.array_equal(df, corpus.char_df)
    assert np.array_equal(_positions(columns, 10)(body.indices), _positions(columns, 10**7)(body.indices))
    renumbered = [counts[:, columns] for counts in (wholes, title, body)]
    tfidf = TfidfTransformer(sublinear_tf=True).fit(renumbered[0])
    for ours, counts in ((corpus.title_chars, renumbered[1]), (corpus.body_chars, renumbered[2])):
        expected = tfidf.transform(counts).tocsr()
        assert ours.shape == expected.shape and abs(ours - expected).max() == 0


def test_a_campaign_read_and_scored_in_two_processes_gets_the_features_of_one(monkeypatch):
    from demo.content import generate_proposals
    from suggestions import issue_texts
    texts = [Text(p["title"], p["body"]) for p in generate_proposals(9, 120)]
    rng = np.random.default_rng(4)
    i, j = rng.integers(0, len(texts), 500), rng.integers(0, len(texts), 500)
    monkeypatch.setattr(issue_texts, "_PAIRS_A_TASK", 60)  # 9 spans, shared out between the two processes
    monkeypatch.setattr(issue_texts, "_TEXTS_A_TASK", 25)  # and 5 spans of texts whose place names are read
    alone_corpus = IssueTexts(texts)
    alone = alone_corpus.features(i, j)
    two = IssueTexts(texts, n_jobs=2, copies_rows_kept=False)  # as a campaign is read: copies rows counted again
    assert two.place_counts == alone_corpus.place_counts and two.names == alone_corpus.names
    assert np.array_equal(two.features(i, j), alone)
    assert np.array_equal(two.copies_scores(i, j), alone_corpus.copies_scores(i, j))
    kept = IssueTexts(texts, n_jobs=2)  # a corpus keeping its copies rows weighs them once, before forking
    assert np.array_equal(kept.features(i, j), alone) and kept._copies_rows is not None
    monkeypatch.setattr(issue_texts, "_ROWS_WEIGHED_AT_ONCE", 10)  # one process, slice by slice
    assert np.array_equal(IssueTexts(texts, copies_rows_kept=False).copies_scores(i, j),
                          alone_corpus.copies_scores(i, j))
