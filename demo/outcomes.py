"""Demo policy outcomes: a few adopted proposals tracked to the document they became, at every stage, with dated
milestones (so 从建议到政策 has something to show on a fresh install). Written through outcomes.services, as
staff would record them."""
import random
from datetime import timedelta

from accounts.models import User
from core.models import utcnow
from outcomes import services as outcome_services
from suggestions.deadlines import beijing_date
from suggestions.models import Suggestion

# (stage, progress, the milestones reached by then: (days after the reply, what happened))
STAGES = [
    ("adopted", 10, [(0, "答复采纳，列入年度工作计划")]),
    ("drafting", 30, [(0, "答复采纳，列入年度工作计划"), (12, "起草工作方案并征求相关部门意见")]),
    ("issued", 50, [(0, "答复采纳，列入年度工作计划"), (10, "起草工作方案并征求相关部门意见"),
                    (28, "工作方案印发")]),
    ("implementing", 70, [(0, "答复采纳，列入年度工作计划"), (8, "起草工作方案并征求相关部门意见"),
                          (21, "工作方案印发"), (35, "首批试点启动")]),
    ("completed", 100, [(0, "答复采纳，列入年度工作计划"), (7, "起草工作方案并征求相关部门意见"),
                        (18, "工作方案印发"), (30, "首批试点启动"), (60, "全面实施，完成验收")]),
]
ISSUED = {"issued", "implementing", "completed"}


def add_outcomes(rng: random.Random, suggestions: list[Suggestion], staff_by_body: dict[int, User],
                 how_many: int = 8) -> int:
    """Record outcomes for up to ``how_many`` adopted proposals, one per handling body where possible, the
    oldest replies furthest along; returns how many."""
    adopted = [s for s in suggestions if s.replies and s.replies[0].decision == "adopted" and s.is_public]
    adopted.sort(key=lambda s: s.replies[0].created_at)
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
        stage, progress, milestones = STAGES[max(0, len(STAGES) - 1 - k * len(STAGES) // max(len(chosen), 1))]
        milestones = [(replied_on + timedelta(days=days), what) for days, what in milestones
                      if replied_on + timedelta(days=days) <= today]
        issued_on = milestones[2][0] if stage in ISSUED and len(milestones) > 2 else None
        topic = suggestion.title.removeprefix("建议").removeprefix("关于")[:40]
        outcome = outcome_services.create_outcome(
            officer, body, issued_on=issued_on, title=f"采纳群众建议：{topic}",
            document_name=f"{body.name}关于{suggestion.category.name}工作的实施方案" if stage in ISSUED else "",
            document_number=f"{body.name[:2]}政发〔{today.year}〕{rng.randint(3, 60)}号" if stage in ISSUED else "",
            link="", clause=(f"第{rng.randint(3, 12)}条 根据群众建议，{topic}，由{body.name}牵头落实。"
                             if stage in ISSUED else ""),
            stage=stage, progress=progress)
        for happened_on, what in milestones:
            outcome_services.add_milestone(officer, outcome, happened_on, what)
        outcome_services.link_suggestion(officer, outcome, suggestion)
    return len(chosen)
