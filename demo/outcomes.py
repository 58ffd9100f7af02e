"""Demo policy outcomes: a few adopted proposals tracked to the document they became, at every stage, with dated
milestones (so 从建议到政策 has something to show on a fresh install). Written through outcomes.services, as
staff would record them."""
from datetime import timedelta

import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from core.models import utcnow
from outcomes import services as outcome_services
from suggestions.deadlines import beijing_date
from suggestions.models import Reply, Suggestion

# (stage, progress, the milestones reached by then: (days after the reply, what happened))
STAGES = [
    ("adopted", 10, [(0, "答复采纳，列入年度工作计划")]),
    ("drafting", 30, [(0, "答复采纳，列入年度工作计划"), (6, "起草工作方案并征求相关部门意见")]),
    ("issued", 50, [(0, "答复采纳，列入年度工作计划"), (5, "起草工作方案并征求相关部门意见"), (14, "工作方案印发")]),
    ("implementing", 70, [(0, "答复采纳，列入年度工作计划"), (4, "起草工作方案并征求相关部门意见"),
                          (10, "工作方案印发"), (20, "首批试点启动")]),
    ("completed", 100, [(0, "答复采纳，列入年度工作计划"), (3, "起草工作方案并征求相关部门意见"),
                        (8, "工作方案印发"), (15, "首批试点启动"), (35, "全面实施，完成验收")]),
]
ISSUED = {"issued", "implementing", "completed"}
# What each kind of body issues, and how it numbers it (发文字号): a congress's standing committee 人大常发, …
DOCUMENT_TYPES = {"congress": "决定", "cppcc": "建议案", "ministry": "通知"}
DOCUMENT_KINDS = {"other": "办发", "department": "发", "congress": "人大常发", "cppcc": "政协发", "ministry": "部发"}


def _topic(title: str) -> str:
    """What a proposal asks, as a policy would say it: 建议在人民路口增设信号灯 → 在人民路口增设信号灯."""
    for prefix in ("关于", "建议", "希望", "请求"):
        title = title.removeprefix(prefix)
    return title.removesuffix("的建议").rstrip("。！!")[:40]


def add_outcomes(staff_by_body: dict[int, User], how_many: int = 8) -> int:
    """Record outcomes for up to ``how_many`` adopted suggestions, one per handling body where possible, the
    oldest replies furthest along; returns how many."""
    first_replies = (sa.select(Reply.suggestion_id, sa.func.min(Reply.created_at).label("at"))
                     .group_by(Reply.suggestion_id).subquery())
    adopted = [s for s in db.session.scalars(
        sa.select(Suggestion).join(first_replies, first_replies.c.suggestion_id == Suggestion.id)
        .join(Reply, sa.and_(Reply.suggestion_id == Suggestion.id, Reply.created_at == first_replies.c.at))
        .where(Reply.decision == "adopted", Suggestion.message_type == "suggestion")
        .order_by(first_replies.c.at, Suggestion.id)) if s.is_public]
    chosen, bodies = [], set()
    for suggestion in adopted:
        if suggestion.handling_body_id not in bodies:
            chosen.append(suggestion)
            bodies.add(suggestion.handling_body_id)
        if len(chosen) == how_many:
            break
    today = beijing_date(utcnow())
    for k, suggestion in enumerate(chosen):
        officer = staff_by_body[suggestion.handling_body_id]
        body = suggestion.handling_body
        replied_on = beijing_date(suggestion.replies[0].created_at)
        # The oldest replies furthest along, but never past the milestones their dates have reached.
        at = len(STAGES) - 1 - k * len(STAGES) // len(chosen)
        while at and replied_on + timedelta(days=STAGES[at][2][-1][0]) > today:
            at -= 1
        stage, progress, milestones = STAGES[at]
        milestones = [(replied_on + timedelta(days=days), what) for days, what in milestones]
        issued = stage in ISSUED
        issued_on = milestones[2][0] if issued else None
        topic = _topic(suggestion.title)
        outcome = outcome_services.create_outcome(
            officer, body, issued_on=issued_on, title=f"采纳群众建议：{topic}",
            document_name=f"{body.name}关于{suggestion.category.name}工作的{DOCUMENT_TYPES.get(body.kind, '实施方案')}"
            if issued else "",
            document_number=(f"{body.name[:2]}{DOCUMENT_KINDS.get(body.kind, '办发')}〔{issued_on.year}〕{11 + 7 * k}号"
                             if issued else ""),
            link="", clause=f"第{3 + k}条 {topic}。具体工作由{body.name}牵头落实。" if issued else "",
            stage=stage, progress=progress)
        for happened_on, what in milestones:
            outcome_services.add_milestone(officer, outcome, happened_on, what)
        outcome_services.link_suggestion(officer, outcome, suggestion)
    return len(chosen)
