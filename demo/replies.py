"""Official replies for the demo: one per decision, addressed to the proposal's topic and place."""
import random
import re

from demo.draft import DRAFT_SHORT, DRAFT_TITLE
from demo.phrases import (
    DEFAULT_DEPT,
    LOCALES,
    REPLY_CLOSERS,
    REPLY_EXPLAIN,
    REPLY_NEXT_STEPS,
    REPLY_NOT_REASONS,
    REPLY_TIMES,
    VERB_STARTS,
)
from demo.topics import TOPICS

DECISIONS = ("adopted", "partly_adopted", "under_study", "explained", "not_adopted")

_TITLE_WRAPPERS = re.compile(
    r"^(关于|建议[：:]?|再次建议[：:]|求助[：:]|咨询[：:]?|投诉[：:]|再次反映[：:]?|反映|请问|恳请帮助解决|对)|"
    r"(的建议|的问题|的情况|的几点建议|的意见建议|的意见|的提议|的几点思考|的咨询|，望重视|！|（再次反映）|相关政策咨询|相关问题|"
    r"有关情况|问题求助|问题该找哪个部门|问题反映多次仍未解决|问题长期得不到解决|，到底谁来管？|，希望尽快解决|，盼解决|"
    r"问题亟待解决|问题)$")


def _reply_topic(title: str) -> str:
    """The matter a reply is about, from the proposal's title ("关于X的建议" → "X")."""
    core = title
    for _ in range(3):
        core = _TITLE_WRAPPERS.sub("", core)
    return core or title


def _guess_topic(proposal: dict) -> dict | None:
    """The topic a proposal was written from, recognised by a literal piece of one of its sentences."""
    body = proposal.get("body", "")
    for topic in TOPICS:
        if topic["cat"] != proposal.get("category"):
            continue
        for sentence in topic["p"] + topic["a"] + [topic["q"], topic["d"], topic["h"]]:
            piece = max(re.split(r"\{[^}]*\}", sentence), key=len)
            if len(piece) >= 8 and piece[:8] in body:
                return topic
    return None


def _reply_office(text: str, category: str, topic: dict | None) -> tuple[str, str]:
    """(who answers, whose work it is), guessed from the places named in the proposal."""
    for loc in ("qingxi", "fengyuan", "yunling", "linchuan"):
        names = LOCALES[loc]
        if any(v in text for key in ("town", "village", "road", "community", "school", "district") for v in names[key]):
            suffix = (topic or {}).get("dept") or DEFAULT_DEPT[category]
            return names["prefix"] + suffix, names["prefix"]
    return "我们", "我们"


def _will(step: str) -> str:
    return step if step.startswith("将") else "将" + step


def generate_reply(seed: int, proposal: dict, decision: str, office: str | None = None) -> str:
    """An official reply (100–400 characters) to one proposal, for one of DECISIONS, in the name of ``office`` (the
    replying body's name) or, when that is not known (an imported board's message), of the local office the places
    it names point to."""
    decision = str(decision)
    rng = random.Random(f"jianyan-reply-{seed}-{decision}")
    title = proposal.get("title", "")
    text = title + proposal.get("body", "")
    category = proposal.get("category") if proposal.get("category") in DEFAULT_DEPT else "services"
    kind = proposal.get("message_type") or "suggestion"
    topic = _guess_topic(proposal)
    guessed = _reply_office(text, category, topic)[0]
    office = office or guessed
    own = [a for a in (topic or {}).get("a", []) if "{" not in a and a.startswith(VERB_STARTS)]
    steps = (rng.sample(own, min(2, len(own))) + rng.sample(REPLY_NEXT_STEPS[category], 2))[:2]
    when = rng.choice(REPLY_TIMES)
    core = _reply_topic(title).replace("“", "‘").replace("”", "’")
    matter = title if title.startswith("关于") and title.endswith("建议") else f"“{core}”"

    if "征求意见稿" in text or DRAFT_SHORT in text or "十五五" in text:
        office = "我们"
    if "征求意见稿" in text or DRAFT_SHORT in text:
        opening = f"您好！您对{DRAFT_TITLE}提出的意见收悉，感谢您对教育立法工作的关心。"
        middle = {"adopted": "经研究，您的意见具有较强的针对性，我们将在修改完善时予以吸收，"
                             "修改后的文本将按程序公开发布。",
                  "partly_adopted": "经研究，您意见中的部分内容我们将在修改时予以吸收；其余内容涉及与其他法规的衔接，"
                                    "需要进一步研究论证。",
                  "under_study": "我们已将您的意见与其他反馈意见一并汇总，正组织专家进行逐条研究论证。",
                  "explained": "需要说明的是，征求意见稿中的有关表述已为各地结合实际细化执行留出了空间，"
                               "各省将在实施细则中作出具体规定。",
                  "not_adopted": "经研究，您提出的修改意见与现行法律法规的有关规定不尽一致，此次暂不作调整，"
                                 "我们将在执行中加强跟踪评估。"}[decision]
    elif "十五五" in text:
        if kind == "question":
            opening = "您好！您在“十五五”规划建议征集中咨询的问题收悉，感谢您的积极参与。"
        elif matter.startswith("关于"):
            opening = f"您好！您提出的{matter}收悉，感谢您对全省“十五五”规划编制工作的积极参与。"
        else:
            opening = "您好！您对全省“十五五”规划提出的建议收悉，感谢您的积极参与。"
        middle = {"adopted": "您的建议已提交规划编制工作组，相关内容将在规划纲要有关章节中予以体现。",
                  "partly_adopted": "您建议中的主要内容已吸收进规划纲要草案，部分具体措施将在相关专项规划中统筹考虑。",
                  "under_study": "您的建议已分类汇总并转交省有关部门研究，将作为编制专项规划的重要参考。",
                  "explained": "您关注的问题在规划纲要草案中已有相应安排，具体将通过年度计划和专项规划分步落实。",
                  "not_adopted": "经研究，您提出的部分具体事项属于市县日常工作范畴，不宜写入省级规划纲要，"
                                 "我们已将其转交有关市县参考。"}[decision]
    elif kind == "thanks":
        solved = f"{topic['s']}问题" if topic else "您反映的问题"
        opening = f"您好！感谢您对我们工作的肯定和鼓励。{solved}能够得到解决，离不开您和周边群众的理解与支持。"
        middle = f"下一步，我们还{_will(steps[0])}，把群众的小事当作我们的大事来办。"
    elif kind == "question":
        opening = f"您好！您咨询的{matter}有关问题收悉，现答复如下：{REPLY_EXPLAIN[category][1]}"
        middle = {"adopted": f"您在留言中提到的意见我们一并予以采纳，{_will(steps[0])}。",
                  "partly_adopted": f"您提到的意见，我们部分予以采纳，下一步{_will(steps[0])}。",
                  "under_study": "您提出的其他意见，我们已转交相关业务科室研究。",
                  "explained": "具体办理事项可拨打12345政务服务便民热线咨询。",
                  "not_adopted": f"您提出的调整意见，因{REPLY_NOT_REASONS[category]}，暂不予采纳。"}[decision]
    elif kind in ("complaint", "help"):
        opening = f"您好！您反映的{matter}问题收悉，我们高度重视，第一时间安排工作人员与您电话联系，并到现场了解情况。"
        middle = {"adopted": f"经核实，您反映的情况属实。{office}{_will(steps[0])}，同时{steps[1]}，"
                             f"预计{when}解决到位。",
                  "partly_adopted": f"经核实，您反映的情况部分属实。我们{_will(steps[0])}；其余诉求涉及其他单位职责，"
                                    "已转交相关单位办理。",
                  "under_study": f"该问题涉及多个部门的职责，{office}正会同相关单位研究解决办法，{when}向您反馈进展。",
                  "explained": f"{REPLY_EXPLAIN[category][0]}我们将于{when}再次回访，了解问题解决情况。",
                  "not_adopted": f"经现场核查，{REPLY_NOT_REASONS[category]}，暂无法按您的诉求处理。"
                                 f"我们{_will(steps[0])}，尽力回应您的关切。"}[decision]
    else:
        opening = rng.choice([f"您好！您提出的{matter}收悉。",
                              f"您好！您反映的{matter}已收悉，感谢您对我们工作的关心。",
                              f"您好！{matter}收悉，现答复如下。"])
        if not matter.startswith("关于"):
            opening = opening.replace(matter, f"{matter}的建议")
        opening += rng.choice([f"收到您的建议后，{office}高度重视，组织相关科室进行了认真研究。",
                               "我们第一时间安排工作人员进行了实地查看，并听取了周边群众和属地街道（乡镇）的意见。",
                               "我们会同相关部门对您的建议进行了认真研究。"])
        middle = {"adopted": f"经研究并组织人员现场核实，您的建议针对性强、切实可行，予以采纳。下一步，我们"
                             f"{_will(steps[0])}，同时{steps[1]}，预计{when}完成，届时欢迎您监督。",
                  "partly_adopted": f"经研究，您建议中的部分内容与我们正在推进的工作方向一致，我们{_will(steps[0])}，"
                                    f"计划{when}完成；"
                                    "其余内容因涉及资金、用地等条件，暂不具备全面实施的条件，将结合下一阶段工作统筹考虑。",
                  "under_study": "该建议涉及多个部门的职责，我们已将其列入研究办理事项，正会同相关单位开展调研论证，"
                                 f"计划{when}形成办理意见后再向您反馈。",
                  "explained": f"现将有关情况说明如下：{REPLY_EXPLAIN[category][0]}下一步，我们{_will(steps[0])}，"
                               "相关进展将在本平台公开。",
                  "not_adopted": f"经实地核查和研究论证，{REPLY_NOT_REASONS[category]}，您的建议暂不予采纳。"
                                 f"下一步，我们{_will(steps[0])}，尽力回应群众关切。"}[decision]
    if "征求意见稿" in text or DRAFT_SHORT in text:
        middle += (f"本次公开征求意见共收到意见{rng.randrange(3, 9)}千余条，我部将逐条研究，"
                   "修改完善后的文本按程序审议通过后向社会公布。")
    elif "十五五" in text:
        middle += (f"本次征集共收到各类意见建议{rng.randrange(4, 12)}千余条，规划编制工作组正在逐条梳理，"
                   "规划纲要草案将于明年初提请省人民代表大会审议。")
    reply = opening + middle + rng.choice(REPLY_CLOSERS)
    if len(reply) < 100:
        reply += "如您还有其他意见建议，欢迎通过本平台继续反映，我们将认真研究办理。"
    if office != "我们" and rng.random() < 0.5 and len(reply) + len(office) < 399:
        reply += "\n" + office
    return reply if len(reply) <= 400 else opening + middle
