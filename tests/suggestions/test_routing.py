"""The routing classifier (suggestions.routing) on short Chinese proposals written for these tests."""
import pickle

import pytest

from suggestions import routing
from suggestions.routing import Router

TRAINING = {
    "交通": [
        "小区门口的公交站太远了，建议增设一个公交站点，方便老人出行。",
        "人民路早晚高峰堵车严重，红绿灯时间设置不合理，希望交警部门调整信号灯。",
        "学校附近没有停车位，家长接送孩子只能乱停车，建议规划临时停车区。",
        "地铁二号线末班车太早，下夜班的人赶不上，希望延长地铁运营时间。",
        "滨江路上的共享单车乱停乱放，占用人行道，影响行人通行。",
        "出租车司机拒载绕路，打车难的问题一直没有解决，请交通部门加强管理。",
        "高速公路出口标志不清楚，很多司机开错路，建议增加指示牌。",
        "公交车司机开车太猛，乘客经常站不稳，希望公交公司加强司机培训。",
    ],
    "教育": [
        "实验小学的课后托管收费太高，希望教育局规范收费标准。",
        "孩子上幼儿园太难了，公办幼儿园名额太少，建议多建公办幼儿园。",
        "中学老师私下办补习班收费，学生不参加就被冷落，请教育部门查处。",
        "学区划分不合理，我家离学校只有五百米却被划到三公里外的学校。",
        "学校食堂饭菜质量差，学生吃不饱，希望加强学校食堂的监管。",
        "高考加分政策不透明，希望教育部门公开加分名单。",
        "学生作业负担太重，每天写到晚上十一点，建议学校减轻作业量。",
        "乡村学校缺少英语老师，希望多招聘教师到农村任教。",
    ],
    "环境": [
        "化工厂晚上偷偷排放废气，气味刺鼻，周边居民头疼，请环保部门查处。",
        "河道里有人倾倒垃圾，河水发黑发臭，希望治理河流污染。",
        "工地夜间施工噪音太大，严重影响居民休息，请环保局管一管。",
        "养猪场的污水直接排进农田，庄稼都死了，请查处污染。",
        "垃圾焚烧厂离居民区太近，烟雾很大，担心空气污染影响健康。",
        "湖边的树木被大量砍伐，生态环境遭到破坏，希望保护绿化。",
        "餐馆油烟直排，楼上居民家里全是油烟味，要求安装油烟净化器。",
        "石材厂粉尘污染严重，附近的空气质量很差，请环保部门监测。",
    ],
    "医疗": [
        "医院挂号排队时间太长，老人不会用手机预约，建议保留人工挂号窗口。",
        "社区卫生服务中心缺少医生，看病要等很久，希望增加全科医生。",
        "医保报销比例太低，大病患者负担不起医药费，希望提高报销比例。",
        "乡镇卫生院的医疗设备老旧，很多检查做不了，只能去县医院。",
        "医院药价太贵，同样的药比药店贵很多，请卫健委调查。",
        "疫苗接种点太少，每次打疫苗都要排半天队，希望增加接种点。",
        "急诊科医生态度恶劣，病人等了三个小时没人管，请医院整改。",
        "农村合作医疗异地就医报销手续太复杂，希望简化流程。",
    ],
}
TEXTS = [t for texts in TRAINING.values() for t in texts]
LABELS = [label for label, texts in TRAINING.items() for _ in texts]

NEW = [
    ("公交车班次太少，等车要等四十分钟，建议增加公交车班次。", "交通"),
    ("路口红绿灯坏了好几天，车辆和行人乱穿，非常危险，请交警尽快修好。", "交通"),
    ("学校老师强制学生购买辅导资料，希望教育局查处乱收费。", "教育"),
    ("幼儿园收费太贵了，普通家庭负担不起，希望增加公办幼儿园学位。", "教育"),
    ("造纸厂往河里排放污水，河水又黑又臭，鱼都死了，请环保部门查处。", "环境"),
    ("附近工厂排放的废气很刺鼻，晚上气味特别大，担心空气污染。", "环境"),
    ("社区医院看病排队太久，医生太少，希望增加医生。", "医疗"),
    ("医保报销手续复杂，住院费用报销要跑好几趟，请简化。", "医疗"),
]


@pytest.fixture(scope="module")
def router():
    return Router.train(TEXTS, LABELS)


def test_routes_on_topic_messages(router):
    assert router.labels == ("交通", "医疗", "教育", "环境")
    assert router.calibrated
    assert router.predict([t for t, _ in NEW]) == [label for _, label in NEW]


def test_traditional_input_is_folded_to_simplified(router):
    simplified = "小区门口没有停车位，车辆乱停，堵住了道路。"
    traditional = "小區門口沒有停車位，車輛亂停，堵住了道路。"
    assert routing.normalise(traditional) == routing.normalise(simplified) == "小区门口没有停车位,车辆乱停,堵住了道路。"
    assert routing.normalise("停車　ＡＢＣ") == "停车 abc"
    assert router.predict([traditional]) == router.predict([simplified]) == ["交通"]
    assert router.suggest(traditional) == router.suggest(simplified)


def test_suggest_gives_k_sorted_confidences(router):
    top = router.suggest("医院急诊排队太久，医生态度不好，病人没人管。", k=3)
    assert len(top) == 3
    assert top[0][0] == "医疗"
    confidences = [c for _, c in top]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) <= 1.0 + 1e-9
    assert top[0][1] > top[1][1]
    everything = router.suggest("医院急诊排队太久。", k=10)
    assert {label for label, _ in everything} == set(router.labels)
    assert sum(c for _, c in everything) == pytest.approx(1.0)
    assert router.suggest("医院", k=0) == []


def test_title_is_used(router):
    body = "请有关部门尽快处理。"
    assert router.suggest(body, title="工厂排放废气污染空气")[0][0] == "环境"
    assert router.suggest(body, title="公交车班次太少")[0][0] == "交通"
    assert router.predict([body, body], titles=["老师强制学生交补课费", "医保报销太难"]) == ["教育", "医疗"]


def test_save_and_load_round_trip(router, tmp_path):
    path = tmp_path / "instance" / "router-category.pkl"
    router.save(path)
    loaded = Router.load(path)
    texts = [t for t, _ in NEW] + ["停車難", ""]
    assert loaded.labels == router.labels
    assert loaded.predict(texts) == router.predict(texts)
    assert (loaded.probabilities(texts) == router.probabilities(texts)).all()
    assert [p.name for p in path.parent.iterdir()] == ["router-category.pkl"]  # no temporary file left


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"something": "else"}))
    with pytest.raises(ValueError, match="not a routing model"):
        Router.load(path)


def test_not_enough_data_is_a_clear_error():
    with pytest.raises(ValueError, match=r"not enough routed proposals to train: need at least 10 across 2"):
        Router.train(TRAINING["交通"] + TRAINING["教育"][:1], ["交通"] * 8 + ["教育"])
    with pytest.raises(ValueError, match="not enough routed proposals"):
        Router.train(TEXTS[:4] + TEXTS[8:12], LABELS[:4] + LABELS[8:12])  # 8 examples
    with pytest.raises(ValueError, match="not enough routed proposals"):
        Router.train([], [])
    with pytest.raises(ValueError, match="not enough routed proposals"):
        Router.train(TEXTS, [""] * len(TEXTS))  # nothing routed yet
    with pytest.raises(ValueError, match="all their texts are empty"):
        Router.train([""] * 12, ["交通", "教育"] * 6)
    with pytest.raises(ValueError, match="no words in common"):
        Router.train(list("!?.,;:()[]{}"), ["交通", "教育"] * 6)  # punctuation only: no words
    with pytest.raises(ValueError, match="32 texts but 3 labels"):
        Router.train(TEXTS, LABELS[:3])
    with pytest.raises(TypeError, match="unknown router options"):
        Router.train(TEXTS, LABELS, kernel="rbf")


def test_rare_labels_are_left_out_and_small_data_still_suggests():
    texts = TRAINING["交通"][:3] + TRAINING["教育"][:3] + TRAINING["环境"][:2] + TRAINING["医疗"][:2] + ["路灯坏了"]
    labels = ["交通"] * 3 + ["教育"] * 3 + ["环境"] * 2 + ["医疗"] * 2 + ["城建"]
    small = Router.train(texts, labels)
    assert small.ignored == {"城建": 1}
    assert small.labels == ("交通", "医疗", "教育", "环境")
    assert not small.calibrated  # 2 examples per class: softmax of the SVC's margins
    top = small.suggest("地铁末班车太早，希望延长运营时间。", k=3)
    assert len(top) == 3
    assert top[0][0] == "交通"
    assert [c for _, c in top] == sorted((c for _, c in top), reverse=True)
    assert sum(c for _, c in top) <= 1.0 + 1e-9


def test_cross_validate_reports_metrics():
    report = routing.cross_validate(TEXTS, LABELS, folds=4, seed=0)
    assert report.n == len(TEXTS)
    assert report.labels == ["交通", "医疗", "教育", "环境"]
    assert 0.5 < report.accuracy <= 1.0
    assert 0.5 < report.macro_f1 <= 1.0
    assert len(report.fold_macro_f1) == 4
    assert sum(m["support"] for m in report.per_class.values()) == len(TEXTS)
    assert sum(map(sum, report.confusion)) == len(TEXTS)
    assert sum(report.confusion[i][i] for i in range(4)) == round(report.accuracy * len(TEXTS))
    with pytest.raises(ValueError, match="at least 10 examples for 10-fold"):
        routing.cross_validate(TEXTS, LABELS, folds=10)
