"""The demo catalogue: subject categories, bodies across the four levels, and their campaigns.

Fictional places (江南省, 临川市, 青溪县, 云岭市, 丰源县); structures modelled on real congresses, CPPCC
committees and departments.
"""
from demo.draft import DRAFT_TITLE

CATEGORIES = [
    {"code": "urban", "name": "城乡建设", "name_en": "Urban and rural development"},
    {"code": "transport", "name": "交通运输", "name_en": "Transport"},
    {"code": "education", "name": "教育文体", "name_en": "Education, culture and sport"},
    {"code": "labour", "name": "劳动和社会保障", "name_en": "Labour and social security"},
    {"code": "health", "name": "卫生健康", "name_en": "Health"},
    {"code": "environment", "name": "环境保护", "name_en": "Environmental protection"},
    {"code": "commerce", "name": "商贸旅游", "name_en": "Commerce and tourism"},
    {"code": "agriculture", "name": "农业农村", "name_en": "Agriculture and rural affairs"},
    {"code": "services", "name": "政务服务", "name_en": "Government services"},
    {"code": "safety", "name": "公共安全", "name_en": "Public safety"},
    {"code": "tech", "name": "科技创新", "name_en": "Science and innovation"},
    {"code": "legal", "name": "法治建设", "name_en": "Rule of law"},
]
ALL_CATEGORIES = [c["code"] for c in CATEGORIES]


def _body(key, name, name_en, kind, level, region, parent=None):
    return {"key": key, "name": name, "name_en": name_en, "kind": kind, "level": level, "region": region,
            "parent": parent}


_JN, _LC, _QX, _YL = "江南省", "江南省临川市", "江南省临川市青溪县", "江南省云岭市"
DIVISIONS = [  # the fictional province, under codes GB/T 2260 leaves unused (99…), beside the real divisions
    {"code": "990000", "name": "江南省", "level": "province", "parent": ""},
    {"code": "990100", "name": "临川市", "level": "city", "parent": "990000"},
    {"code": "990122", "name": "青溪县", "level": "county", "parent": "990100"},
    {"code": "990200", "name": "云岭市", "level": "city", "parent": "990000"},
    {"code": "990223", "name": "丰源县", "level": "county", "parent": "990200"},
]
def edition_logo(mark: str, colour: str) -> bytes:
    """The demo editions' logos (the project's own drawing): the edition's first character on its colour."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">'
            f'<rect width="40" height="40" rx="8" fill="#ffffff"/><rect x="3" y="3" width="34" height="34" rx="6" '
            f'fill="{colour}"/><text x="20" y="27" font-size="20" text-anchor="middle" fill="#ffffff" '
            f'font-family="sans-serif">{mark}</text></svg>').encode()


EDITIONS = [  # two local editions under the national site, each with its own look
    {"code": "990100", "name": "临川市人民建议征集平台", "short_name": "临川",
     "name_en": "Linchuan Citizens' Suggestions", "short_name_en": "Linchuan", "colour": "#1f4e79"},
    {"code": "990200", "name": "云岭市民意直通车", "short_name": "云岭", "name_en": "Yunling Direct Line",
     "short_name_en": "Yunling", "colour": "#2e6b3a"},
]
BODIES = [  # parents come before their children
    _body("nat-npc", "全国人大常委会法制工作委员会", "Legislative Affairs Commission of the NPC Standing Committee",
          "congress", "national", "全国"),
    _body("moe", "教育部", "Ministry of Education", "ministry", "national", "全国"),
    _body("mot", "交通运输部", "Ministry of Transport", "ministry", "national", "全国"),
    _body("mca", "民政部", "Ministry of Civil Affairs", "ministry", "national", "全国"),
    _body("prov-npc", "江南省人大常委会", "Standing Committee of the Jiangnan Provincial People's Congress",
          "congress", "provincial", _JN),
    _body("prov-cppcc", "政协江南省委员会", "Jiangnan Provincial Committee of the CPPCC", "cppcc", "provincial", _JN),
    _body("prov-gov", "江南省人民政府", "Jiangnan Provincial People's Government", "other", "provincial", _JN),
    _body("prov-edu", "江南省教育厅", "Jiangnan Provincial Department of Education", "department", "provincial", _JN,
          "prov-gov"),
    _body("prov-health", "江南省卫生健康委员会", "Jiangnan Provincial Health Commission", "department", "provincial",
          _JN, "prov-gov"),
    _body("city-npc", "临川市人大常委会", "Standing Committee of the Linchuan Municipal People's Congress",
          "congress", "municipal", _LC, "prov-npc"),
    _body("city-cppcc", "政协临川市委员会", "Linchuan Municipal Committee of the CPPCC", "cppcc", "municipal", _LC,
          "prov-cppcc"),
    _body("city-gov", "临川市人民政府", "Linchuan Municipal People's Government", "other", "municipal", _LC,
          "prov-gov"),
    _body("city-suggest", "临川市人民建议征集办公室", "Linchuan Office for Citizens' Suggestions", "other",
          "municipal", _LC, "city-gov"),
    _body("city-transport", "临川市交通运输局", "Linchuan Municipal Transport Bureau", "department", "municipal", _LC,
          "city-gov"),
    _body("city-housing", "临川市住房和城乡建设局", "Linchuan Municipal Housing and Urban-Rural Development Bureau",
          "department", "municipal", _LC, "city-gov"),
    _body("yl-gov", "云岭市人民政府", "Yunling Municipal People's Government", "other", "municipal", _YL, "prov-gov"),
    _body("yl-civil", "云岭市民政局", "Yunling Municipal Civil Affairs Bureau", "department", "municipal", _YL,
          "yl-gov"),
    _body("county-npc", "青溪县人大常委会", "Standing Committee of the Qingxi County People's Congress", "congress",
          "county", _QX, "city-npc"),
    _body("county-gov", "青溪县人民政府", "Qingxi County People's Government", "other", "county", _QX, "city-gov"),
    _body("county-traffic", "青溪县公安局交通管理大队", "Qingxi County Traffic Police Brigade", "department",
          "county", _QX, "county-gov"),
    _body("county-housing", "青溪县住房和城乡建设局", "Qingxi County Housing and Urban-Rural Development Bureau",
          "department", "county", _QX, "county-gov"),
    _body("county-edu", "青溪县教育局", "Qingxi County Education Bureau", "department", "county", _QX, "county-gov"),
]

CAMPAIGNS = [
    {"key": "prov-15th-plan", "body": "prov-npc", "title": "江南省“十五五”规划建议征集",
     "theme": "共绘“十五五”发展蓝图",
     "description": "“十五五”时期是江南省全面推进现代化建设的关键阶段。为开门编规划、问计于民，省人大常委会面向社会"
                    "公开征集对全省“十五五”规划编制的意见建议。欢迎围绕产业发展、城乡建设、民生保障、生态环境等方面"
                    "建言献策，征集结束后意见建议将分类汇总，提供给规划编制工作组研究吸收。",
     "categories": ALL_CATEGORIES, "region_scope": _JN, "opened_days_ago": 38, "closes_in_days": 22,
     "allow_oppose": False, "status": "open"},
    {"key": "lc-people-suggestions", "body": "city-suggest", "title": "临川市人民建议征集",
     "theme": "人民建议 常年征集",
     "description": "人民建议征集是市民参与城市治理的常设渠道。凡是关于城市发展、公共服务、社会治理的意见建议，"
                    "以及需要政府部门帮助协调的问题，都可以在这里提出。我们将在五个工作日内完成分办，"
                    "办理结果在本平台公开。请勿在留言中填写手机号码、身份证号等个人信息。",
     "categories": ALL_CATEGORIES, "region_scope": _LC, "opened_days_ago": 420, "closes_in_days": None,
     "allow_oppose": False, "status": "open"},
    {"key": "qx-road-safety", "body": "county-traffic", "title": "青溪县道路交通安全隐患征集",
     "theme": "排查身边的交通安全隐患",
     "description": "为有效预防和减少道路交通事故，县公安局交通管理大队面向社会征集道路交通安全隐患线索。"
                    "急弯陡坡、临水临崖、学校周边、信号配时不合理、标志标线缺失等问题都可以反映，请尽量写明具体路段"
                    "和时段。我们将逐条核查，能立即整改的立即整改，需要列入计划的公开整改时限。",
     "categories": ["transport", "safety", "education", "urban"], "region_scope": _QX, "opened_days_ago": 26,
     "closes_in_days": 5, "allow_oppose": False, "status": "open"},
    {"key": "moe-after-school-draft", "body": "moe", "title": f"{DRAFT_TITLE}公开征求意见",
     "theme": "规范中小学课后服务",
     "description": f"为规范中小学课后服务，切实减轻家长接送负担，我部研究起草了{DRAFT_TITLE}，现向社会公开征求意见。"
                    "请对具体条款提出修改意见，并尽量说明理由。反馈意见将作为修改完善的重要参考。",
     "categories": ["education", "legal"], "region_scope": "全国", "opened_days_ago": 75, "closes_in_days": -45,
     "allow_oppose": False, "status": "closed"},
    {"key": "prov-cppcc-rural", "body": "prov-cppcc", "title": "省政协“推进乡村全面振兴”专题协商建言征集",
     "theme": "推进乡村全面振兴",
     "description": "省政协将围绕“推进乡村全面振兴”开展专题协商。为使协商建言更接地气，现面向社会征集意见建议，"
                    "重点关注农村基础设施、产业发展、人居环境和基本公共服务。优秀建议将整理形成社情民意信息报送有关部门。",
     "categories": ["agriculture", "environment", "commerce", "education", "health", "transport"],
     "region_scope": _JN, "opened_days_ago": 20, "closes_in_days": 40, "allow_oppose": False, "status": "open"},
    {"key": "lc-old-communities", "body": "city-housing", "title": "临川市老旧小区改造（第三批）居民意见征集",
     "theme": "老旧小区改造 居民说了算",
     "description": "第三批老旧小区改造项目即将启动，涉及东湖区、西江区的四十余个小区。"
                    "改什么、怎么改，请居民朋友说出来。"
                    "欢迎就加装电梯、雨污分流、停车充电、适老化改造、物业管理等提出意见，也可以对其他居民的建议表示支持或反对。",
     "categories": ["urban", "safety", "environment", "commerce", "labour", "legal"], "region_scope": _LC,
     "opened_days_ago": 18, "closes_in_days": 42, "allow_oppose": True, "status": "open"},
    {"key": "yl-elderly-care", "body": "yl-civil", "title": "云岭市居家和社区养老服务意见征集",
     "theme": "居家社区养老服务",
     "description": "为完善居家社区养老服务体系，市民政局就助餐、助浴、助医、上门照护和养老服务补贴等征集意见建议。"
                    "欢迎老年朋友、家属和养老服务从业人员积极参与。",
     "categories": ["labour", "health", "services", "urban", "safety", "tech"], "region_scope": _YL,
     "opened_days_ago": 210, "closes_in_days": -150, "allow_oppose": False, "status": "archived"},
    {"key": "lc-business-env", "body": "city-npc", "title": "《临川市优化营商环境条例（草案）》立法意见征集",
     "theme": "优化营商环境立法",
     "description": "市人大常委会正在审议《临川市优化营商环境条例（草案）》。为提高立法质量，现征求社会各界特别是"
                    "市场主体的意见。欢迎结合亲身经历，就政务服务、涉企检查、政府守信、权益保护等提出具体修改建议。",
     "categories": ["commerce", "services", "legal", "tech", "labour"], "region_scope": _LC,
     "opened_days_ago": 95, "closes_in_days": -25, "allow_oppose": False, "status": "closed"},
    {"key": "qx-livelihood", "body": "county-npc", "title": "青溪县明年民生实事项目候选建议征集",
     "theme": "民生实事 群众点单",
     "description": "明年的民生实事项目由群众“点单”。县人大常委会面向全县群众征集候选项目建议，"
                    "经汇总筛选后提交县人民代表大会票决。请写清楚要办什么事、在哪里办、能惠及多少群众。",
     "categories": ["urban", "transport", "education", "health", "environment", "agriculture", "labour",
                    "services", "safety", "commerce"],
     "region_scope": _QX, "opened_days_ago": 12, "closes_in_days": 48, "allow_oppose": True, "status": "open"},
    # Two without proposals, so that every stage of a campaign's life is on show: one announced for next week
    # (即将开始), one its body is still preparing (草稿: only its staff see it).
    {"key": "yl-winter-heating", "body": "yl-gov", "title": "云岭市今冬供暖保障意见征集",
     "theme": "温暖过冬 共同参与",
     "description": "今冬供暖季即将到来。市政府面向全市居民征集供暖保障方面的意见建议，包括老旧管网改造、"
                    "供暖温度、收费服务、困难群众取暖等。征集开始后即可提交。",
     "categories": ["urban", "services", "safety", "labour"], "region_scope": _YL,
     "opened_days_ago": -7, "closes_in_days": 37, "allow_oppose": False, "status": "upcoming"},
    {"key": "county-river-draft", "body": "county-gov", "title": "青溪县河道管理办法（草案）征求意见",
     "theme": "河道管理 依法治水",
     "description": "县政府起草了《青溪县河道管理办法（草案）》，拟面向社会公开征求意见。草案正在定稿，"
                    "发布前仅县政府工作人员可见。",
     "categories": ["environment", "legal", "agriculture"], "region_scope": _QX,
     "opened_days_ago": -30, "closes_in_days": 60, "allow_oppose": False, "status": "draft"},
]
_CAMPAIGNS_BY_KEY = {c["key"]: c for c in CAMPAIGNS}
