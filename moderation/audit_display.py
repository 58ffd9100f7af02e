"""How the audit-log viewer shows its rows to people: the action's label, the object by name with a link where the
reader may open it, and the details as labelled values (statuses, reasons, bodies and accounts by name). The labels
of codes live in ``core.audit``; the values' labels come from the packages that own them. Nothing here writes."""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from accounts.models import ROLE_LABELS, Body, MembershipRole, User
from accounts.permissions import can_act_for_body, can_manage_body
from campaigns.forms import CampaignForm
from campaigns.models import PHASE_LABELS, Campaign, CampaignStatus
from core.audit import (
    ACTION_GROUPS,
    ACTIONS,
    TARGET_TYPE_LABELS,
    AuditLog,
    action_label,
    detail_label,
    target_type_label,
)
from core.extensions import db
from core.privacy import mask_personal_data
from moderation.models import (
    FLOOD_RULE_LABELS,
    FLOOD_STATUS_LABELS,
    REPORT_REASON_LABELS,
    WORD_CATEGORY_LABELS,
    FloodKind,
    SensitiveWord,
)
from outcomes.models import STAGE_LABELS, PolicyOutcome
from suggestions.forms import REJECT_REASON_LABELS
from suggestions.models import (
    DECISION_LABELS,
    RATING_REASON_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    Cluster,
    Reply,
    Suggestion,
)

MAX_LISTED = 10  # a detail listing more proposals or bodies shows this many and how many more

FLOOD_KIND_LABELS = {FloodKind.SUPPORTS: _l("Supports of one proposal"),
                     FloodKind.SUBMISSIONS: _l("Near-identical submissions")}
PROFILE_FIELD_LABELS = {"display_name": _l("Display name"), "email": _l("E-mail address")}
HIDE_REASON_LABELS = {"reports": _l("Reported by enough accounts")}  # suggestion.hide after reports
MEMBER_ROLE_LABELS = {MembershipRole.STAFF: _l("Staff"), MembershipRole.MANAGER: _l("Manager")}

# Value labels by detail key, and where a key means different things, by action code or its group.
_BY_KEY = {"status": STATUS_LABELS, "decision": DECISION_LABELS, "satisfaction": SATISFACTION_LABELS,
           "reasons": RATING_REASON_LABELS, "stage": STAGE_LABELS, "previous_stage": STAGE_LABELS,
           "category": WORD_CATEGORY_LABELS, "kind": FLOOD_KIND_LABELS, "rules": FLOOD_RULE_LABELS,
           "site_role": ROLE_LABELS}
_BY_ACTION = {("suggestion.reject", "reason"): REJECT_REASON_LABELS,
              ("moderation.report", "reason"): REPORT_REASON_LABELS,
              ("suggestion.hide", "reason"): HIDE_REASON_LABELS,
              ("user.update_profile", "changed"): PROFILE_FIELD_LABELS}
_BY_GROUP = {("suggestion", "previous"): STATUS_LABELS, ("campaign", "previous"): PHASE_LABELS,
             ("user", "role"): ROLE_LABELS, ("user", "previous"): ROLE_LABELS,
             ("body", "role"): MEMBER_ROLE_LABELS, ("body", "previous"): MEMBER_ROLE_LABELS,
             ("flood", "previous"): FLOOD_STATUS_LABELS}
BODY_KEYS = {"lead", "co_handlers", "from_body", "to_body", "removed_from_bodies"}
PROPOSAL_KEYS = {"suggestion", "representative", "members"}
CLUSTER_KEYS = {"cluster", "new_cluster", "merged_cluster"}
PERCENT_KEYS = {"progress", "previous_progress"}


@dataclass
class Ref:
    """One piece of a shown value: text, and a link when the reader may open what it names. A ``tail`` closes a
    shortened list ("… 14 in all") and takes no separator before it."""
    text: str
    url: str | None = None
    tail: bool = False


@dataclass
class AuditRow:
    entry: AuditLog
    action: str
    target: Ref
    target_name: str = ""  # a title or name shown beside the object, where the reader may see it
    details: list[tuple[str, list[Ref]]] = field(default_factory=list)


@dataclass
class _Objects:
    """The objects a page of rows names, loaded once per type."""
    by_type: dict[str, dict[int, object]] = field(default_factory=lambda: defaultdict(dict))

    def get(self, target_type: str, number) -> object | None:
        return self.by_type[target_type].get(number) if isinstance(number, int) else None


def rows_for(viewer: User, entries: list[AuditLog], *, with_usernames: bool) -> list[AuditRow]:
    """The page's rows as the viewer reads them (a handful of queries for the page, whatever its length)."""
    objects = _load(entries)
    return [_row(viewer, entry, objects, with_usernames) for entry in entries]


# --- loading ---------------------------------------------------------------------------------------------------

def _ids(values: Iterable) -> set[int]:
    found = set()
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, int) and not isinstance(item, bool):
                found.add(item)
    return found


def _load(entries: list[AuditLog]) -> _Objects:
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        wanted[entry.target_type].add(entry.target_id)
        detail, group = entry.detail or {}, entry.action.partition(".")[0]
        wanted["bodies"] |= _ids(v for k, v in detail.items() if k in BODY_KEYS)
        wanted["users"] |= _ids([detail.get("user_id")])
        wanted["clusters"] |= _ids(v for k, v in detail.items() if k in CLUSTER_KEYS)
        wanted["suggestions"] |= _ids(v for k, v in detail.items() if k in PROPOSAL_KEYS)
        if group == "cluster":
            wanted["suggestions"] |= _ids([detail.get("previous")])
    objects = _Objects()
    found = objects.by_type
    if wanted["replies"]:
        found["replies"] = {r.id: r for r in db.session.scalars(
            sa.select(Reply).where(Reply.id.in_(wanted["replies"])))}
        wanted["suggestions"] |= {r.suggestion_id for r in found["replies"].values()}
    if wanted["clusters"]:
        found["clusters"] = {c.id: c for c in db.session.scalars(
            sa.select(Cluster).where(Cluster.id.in_(wanted["clusters"])))}
        wanted["suggestions"] |= {c.representative_id for c in found["clusters"].values()}
    if wanted["suggestions"]:
        found["suggestions"] = {s.id: s for s in db.session.scalars(
            sa.select(Suggestion).where(Suggestion.id.in_(wanted["suggestions"]))
            .options(joinedload(Suggestion.campaign)))}
    for table, model in (("bodies", Body), ("users", User), ("campaigns", Campaign),
                         ("policy_outcomes", PolicyOutcome), ("sensitive_words", SensitiveWord)):
        if wanted[table]:
            found[table] = {o.id: o for o in db.session.scalars(sa.select(model).where(model.id.in_(wanted[table])))}
    return objects


# --- the object a row is about ---------------------------------------------------------------------------------

def _row(viewer: User, entry: AuditLog, objects: _Objects, with_usernames: bool) -> AuditRow:
    text = f"{target_type_label(entry.target_type)} #{entry.target_id}"
    row = AuditRow(entry=entry, action=action_label(entry.action), target=Ref(text))
    obj = objects.get(entry.target_type, entry.target_id)
    kind = entry.target_type
    if kind == "suggestions" and obj is not None and obj.visible_to(viewer):
        row.target.url = url_for("suggestions.detail", suggestion_id=obj.id)
        row.target_name = mask_personal_data(obj.title)
    elif kind == "replies" and obj is not None:
        proposal = objects.get("suggestions", obj.suggestion_id)
        if proposal is not None and proposal.visible_to(viewer):
            row.target.url = url_for("suggestions.detail", suggestion_id=proposal.id, _anchor=f"reply-{obj.id}")
            row.target_name = mask_personal_data(proposal.title)
    elif kind == "campaigns" and obj is not None and (
            obj.status != CampaignStatus.DRAFT or can_act_for_body(viewer, obj.body_id)):
        row.target.url = url_for("campaigns.detail", campaign_id=obj.id)
        row.target_name = obj.title
    elif kind == "bodies" and obj is not None:
        row.target_name = obj.display_name(str(get_locale()))
        if can_manage_body(viewer, obj.id):
            row.target.url = url_for("accounts_staff.staff", body_id=obj.id)
    elif kind == "users" and obj is not None:
        row.target_name = _user_name(obj, with_usernames)
        if viewer.is_admin:
            row.target.url = url_for("accounts_admin.user", user_id=obj.id)
    elif kind == "clusters" and obj is not None:
        representative = objects.get("suggestions", obj.representative_id)
        if representative is not None and representative.is_public:
            row.target.url = url_for("clusters.page", cluster_id=obj.id)
    elif kind == "policy_outcomes" and obj is not None:
        row.target.url = url_for("outcomes.detail", outcome_id=obj.id)
        row.target_name = obj.title
    elif kind == "flood_groups" and viewer.is_moderator:
        row.target.url = url_for("moderation.floods", _anchor=f"flood-{entry.target_id}")
    elif kind == "sensitive_words" and obj is not None and viewer.is_admin:
        row.target.url = url_for("moderation.word_list", category=obj.category)
        row.target_name = obj.word
    row.details = [(detail_label(key), _value(viewer, entry, key, value, objects, with_usernames))
                   for key, value in (entry.detail or {}).items()]
    return row


def _user_name(user: User, with_usernames: bool) -> str:
    return f"{user.public_name} ({user.username})" if with_usernames else user.public_name


# --- the details -----------------------------------------------------------------------------------------------

def _value(viewer: User, entry: AuditLog, key: str, value, objects: _Objects, with_usernames: bool) -> list[Ref]:
    group = entry.action.partition(".")[0]
    if isinstance(value, list):
        items = [_one(viewer, entry, group, key, item, objects, with_usernames) for item in value[:MAX_LISTED]]
        if len(value) > MAX_LISTED:
            items.append(Ref(_("… %(n)d in all", n=len(value)), tail=True))
        return items or [Ref("—")]
    return [_one(viewer, entry, group, key, value, objects, with_usernames)]


def _one(viewer: User, entry: AuditLog, group: str, key: str, value, objects: _Objects,
         with_usernames: bool) -> Ref:
    if value is None or value == "":
        return Ref("—")
    if isinstance(value, bool):
        return Ref(_("Yes") if value else _("No"))
    if key in BODY_KEYS:
        body = objects.get("bodies", value)
        return Ref(body.display_name(str(get_locale())) if body is not None else f"#{value}")
    if key == "user_id":
        user = objects.get("users", value)
        return Ref(_user_name(user, with_usernames) if user is not None else f"#{value}")
    if isinstance(value, int) and (key in PROPOSAL_KEYS or (group == "cluster" and key == "previous")):
        return _proposal(viewer, value, objects)
    if key in CLUSTER_KEYS:
        cluster = objects.get("clusters", value)
        representative = objects.get("suggestions", cluster.representative_id) if cluster is not None else None
        public = representative is not None and representative.is_public
        return Ref(f"#{value}", url_for("clusters.page", cluster_id=value) if public else None)
    if key in PERCENT_KEYS and isinstance(value, int):
        return Ref(f"{value}%")
    if entry.action == "campaign.update" and key == "changed":
        return Ref(_campaign_field_label(str(value)))
    labels = _BY_ACTION.get((entry.action, key)) or _BY_GROUP.get((group, key)) or _BY_KEY.get(key)
    if labels is not None and isinstance(value, str) and value in labels:
        return Ref(str(labels[value]))
    return Ref(str(value))


def _proposal(viewer: User, value, objects: _Objects) -> Ref:
    proposal = objects.get("suggestions", value)
    if proposal is None or not proposal.visible_to(viewer):
        return Ref(f"#{value}")
    return Ref(f"#{value}", url_for("suggestions.detail", suggestion_id=proposal.id))


def _campaign_field_label(name: str) -> str:
    """A campaign field by the label its form gives it (the name itself for a field the form no longer has)."""
    unbound = getattr(CampaignForm, name, None)
    args = getattr(unbound, "args", ())
    return str(args[0]) if args else name


# --- the filters' choices --------------------------------------------------------------------------------------

def type_choices(present: list[str], current: str) -> list[SelectChoice]:
    """The object types found in the reader's rows, by name, in the order of ``TARGET_TYPE_LABELS``."""
    order = {t: n for n, t in enumerate(TARGET_TYPE_LABELS)}
    types = sorted(present, key=lambda t: (order.get(t, len(order)), t))
    if current and current not in types:
        types.append(current)  # from a link: still filters (and finds nothing the reader may read)
    return [SelectChoice("", _("All"))] + [SelectChoice(t, target_type_label(t)) for t in types]


def action_choices(present: list[str], current: str) -> list[SelectChoice]:
    """The actions that can concern the object types found, in groups, each group led by a choice of all of it."""
    choices = [SelectChoice("", _("All"))]
    offered = set()
    for group, group_label in ACTION_GROUPS.items():
        codes = [code for code, action in ACTIONS.items()
                 if action.group == group and set(action.target_types) & set(present)]
        if not codes:
            continue
        name = str(group_label)
        choices.append(SelectChoice(f"{group}.", _("All of “%(group)s”", group=name), optgroup=name))
        choices += [SelectChoice(code, action_label(code), optgroup=name) for code in codes]
        offered |= {f"{group}.", *codes}
    if current and current not in offered:
        choices.append(SelectChoice(current, action_label(current)))
    return choices
