"""The draft's pages: the draft article by article with comment counts (public), one article with its comments
(public; with the summary, filters and CSV for the body's staff), what changed between versions (public), the
summary of every article (staff) and importing a draft or a new version (the body's managers)."""
import csv
import io
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.permissions import can_act_for_body, can_manage_body
from analytics.exports import csv_value
from campaigns.models import Campaign
from core.errors import DomainError, NotFound
from core.extensions import db
from core.models import utcnow
from core.text import remove_format_characters
from drafts import feedback, parsing, services, summaries
from drafts.forms import DecisionForm, ImportForm, ReportForm
from drafts.models import DECISION_LABELS, Draft, DraftProvision
from suggestions.cluster_models import Cluster
from suggestions.models import MESSAGE_TYPE_LABELS, STATUS_LABELS

bp = Blueprint("drafts", __name__, url_prefix="/drafts")
PER_PAGE = 30
UNREADABLE = {
    "no_structure": _l("No articles or headings with text were found in it. A draft's articles begin with 第…条; "
                       "a plan outline's headings with 第…章, 第…节 or 一、."),
    "not_docx": _l("This file is not a .docx document. Save it from Word or WPS as .docx, or as text."),
    "not_utf8": _l("This text file is not in UTF-8. Save it as UTF-8 (in Notepad: Save as, Encoding UTF-8)."),
    "not_text": _l("This file holds characters that are not text. Upload the draft as .docx, Markdown or text."),
}
STAFF_SHOWN_LABELS = {"public": _l("Published"), "pending": _l("Awaiting screening"), "all": _l("All")}


def _draft_or_404(draft_id: int) -> Draft:
    draft = db.get_or_404(Draft, draft_id)
    body_id = draft.campaign.body_id
    if draft.campaign.status == "draft" and not (can_act_for_body(current_user, body_id)
                                                 or can_manage_body(current_user, body_id)):
        abort(404)
    return draft


def _version_number() -> int | None:
    raw = request.args.get("version", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else None


@bp.get("/<int:draft_id>")
def read(draft_id: int):
    """The draft, article by article, each with its number of comments and a way to comment."""
    draft = _draft_or_404(draft_id)
    try:
        version = services.version_by_number(draft, _version_number())
    except NotFound:
        abort(404)
    counts = services.comment_counts(draft)
    return render_template("drafts/read.html", draft=draft, version=version,
                           counts=counts, orphaned=services.orphaned_count(draft, counts),
                           accepts=draft.campaign.accepts_submissions(utcnow()),
                           is_staff=services.can_read_summaries(current_user, draft),
                           is_manager=can_manage_body(current_user, draft.campaign.body_id))


def _provision_of(draft: Draft, article_id: int) -> tuple[DraftProvision, bool, list[DraftProvision]]:
    """The article as the current version has it, else as the last version that had it (then orphaned), and as
    each version had it."""
    history = services.article_history(draft, [article_id])
    if not history:
        abort(404)
    return history[-1], history[-1].version_id != draft.current_version.id, history


def _filters(is_staff: bool) -> dict:
    shown = request.args.get("shown", "public")
    message_type = request.args.get("type", "")
    sort = request.args.get("sort", "support")
    return {"shown": shown if is_staff and shown in summaries.SHOWN_STATUSES else "public",
            "message_type": message_type if message_type in MESSAGE_TYPE_LABELS else "",
            "passage_only": request.args.get("passage") == "1",
            "sort": sort if sort in summaries.SORTS else "support"}


@bp.get("/<int:draft_id>/articles/<int:article_id>")
@bp.get("/<int:draft_id>/whole", defaults={"article_id": None})
def article(draft_id: int, article_id: int | None):
    """One article (or the whole draft) with its comments; the body's staff also see the summary and filters."""
    return _article_page(_draft_or_404(draft_id), article_id)


def _article_page(draft: Draft, article_id: int | None, refused: DecisionForm | None = None):
    """The article page; ``refused``: a decision form sent back with its errors and what was typed (422)."""
    provision, orphaned, history = _provision_of(draft, article_id) if article_id is not None else (None, False, [])
    is_staff = services.can_read_summaries(current_user, draft)
    filters = _filters(is_staff)
    page = db.paginate(summaries.article_comments(draft.id, article_id, **filters), per_page=PER_PAGE,
                       error_out=False)
    summary = summaries.summarise_article(db.session, draft.id, article_id) if is_staff else None
    decision_forms = {}
    if summary is not None:
        decided = feedback.decisions_by_cluster(draft, article_id, [row.cluster.id for row in summary.clusters])
        for row in summary.clusters:
            record = decided.get(row.cluster.id)
            decision_forms[row.cluster.id] = DecisionForm(
                formdata=None, cluster_id=row.cluster.id, article_id=article_id,
                decision=record.decision if record else "", reason=record.reason if record else "")
        if refused is not None and refused.cluster_id.data in decision_forms:
            decision_forms[refused.cluster_id.data] = refused
    return render_template("drafts/article.html", draft=draft, provision=provision, orphaned=orphaned, history=history,
                           article_id=article_id, page=page, summary=summary, filters=filters, is_staff=is_staff,
                           accepts=draft.campaign.accepts_submissions(utcnow()), decision_forms=decision_forms,
                           refused=refused,
                           decision_labels=DECISION_LABELS, type_labels=MESSAGE_TYPE_LABELS,
                           status_labels=STATUS_LABELS, shown_labels=STAFF_SHOWN_LABELS), \
        422 if refused is not None else 200


@bp.get("/<int:draft_id>/articles/<int:article_id>.csv")
@bp.get("/<int:draft_id>/whole.csv", defaults={"article_id": None})
@login_required
def article_csv(draft_id: int, article_id: int | None):
    """The article's comments as CSV for the drafting team (staff of the campaign's body)."""
    draft = _draft_or_404(draft_id)
    if not services.can_read_summaries(current_user, draft):
        abort(403)
    provision = _provision_of(draft, article_id)[0] if article_id is not None else None
    label = provision.title if provision is not None else _("The whole draft")
    query = summaries.article_comments(draft.id, article_id, **_filters(True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(summaries.CSV_COLUMNS)
    for row in summaries.csv_rows(db.session, draft.id, label, query,
                                  lambda i: url_for("suggestions.detail", suggestion_id=i, _external=True)):
        writer.writerow([csv_value(value) for value in row])
    name = f"draft-{draft.id}-{'whole' if article_id is None else f'article-{article_id}'}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/<int:draft_id>/summary")
@login_required
def summary(draft_id: int):
    """Every article with its comments, commenters and support, for the drafting team."""
    draft = _draft_or_404(draft_id)
    if not services.can_read_summaries(current_user, draft):
        abort(403)
    return render_template("drafts/summary.html", draft=draft, rows=services.article_table(draft),
                           orphaned=services.orphaned_count(draft))


@bp.get("/<int:draft_id>/changes")
def changes(draft_id: int):
    """What changed from one version to the next (by default the last two)."""
    draft = _draft_or_404(draft_id)
    if len(draft.versions) < 2:
        return redirect(url_for("drafts.read", draft_id=draft.id))
    after_number = _version_number() or draft.current_version.number
    try:
        after = services.version_by_number(draft, after_number)
        before = services.version_by_number(draft, after.number - 1)
    except NotFound:
        abort(404)
    decided: dict[int, list] = {}
    for row in feedback.decisions_of(draft):
        if row.decision.version_id == after.id and row.decision.article_id is not None:
            decided.setdefault(row.decision.article_id, []).append(row)
    return render_template("drafts/changes.html", draft=draft, before=before, after=after,
                           changes=services.compare_versions(before, after), counts=services.comment_counts(draft),
                           decided=decided, decision_labels=DECISION_LABELS)


@bp.route("/import/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def import_draft(campaign_id: int):
    """Import the campaign's draft, or a new version of it (managers of the campaign's body)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if not can_manage_body(current_user, campaign.body_id):
        abort(403)
    draft = services.draft_of(campaign)
    form = ImportForm()
    if form.validate_on_submit():
        parsed, source = _read_import(form)
        if parsed is not None:
            try:
                if draft is None:
                    draft = services.create_draft(current_user, campaign, parsed, source_name=source,
                                                  note=form.note.data, title=form.title.data)
                else:
                    services.import_version(current_user, draft, parsed, source_name=source, note=form.note.data)
            except DomainError as error:
                db.session.rollback()
                if error.status_code == 403:
                    raise
                form.form_errors.append(str(error.message))  # shown with the pasted text kept
                draft = services.draft_of(campaign)
            else:
                db.session.commit()
                flash(_("Version %(n)d of the draft is published with %(count)d articles.",
                        n=draft.current_version.number, count=len(parsed.articles)), "success")
                return redirect(url_for("drafts.read", draft_id=draft.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("drafts/import.html", form=form, campaign=campaign, draft=draft), status


def _read_import(form: ImportForm) -> tuple[parsing.ParsedDraft | None, str]:
    """The draft the import form sends (its file, else its pasted text) and the file's name; on a file that cannot
    be read, None with the reason put on the form."""
    upload = form.document.data
    try:
        if upload and upload.filename:
            source = remove_format_characters(" ".join(upload.filename.split()))[:200]
            return parsing.parse_file(source, upload.read()), source
        if form.text.data:
            return parsing.parse_text(form.text.data), ""
    except parsing.DraftUnreadable as error:
        form.form_errors.append(str(UNREADABLE[error.reason]))
        return None, ""
    form.form_errors.append(_("Choose a file or paste the text of the draft."))
    return None, ""


@bp.post("/<int:draft_id>/decisions")
@login_required
def decide(draft_id: int):
    """Record the decision on one cluster of an article's comments, from the article page's staff view."""
    draft = _draft_or_404(draft_id)
    if not services.can_read_summaries(current_user, draft):
        abort(403)
    form = DecisionForm()
    article_id = form.article_id.data or None
    if form.validate():
        cluster = db.session.get(Cluster, form.cluster_id.data)
        if cluster is None:
            abort(404)
        try:
            feedback.decide_cluster(current_user, draft, cluster, article_id=article_id,
                                    decision=form.decision.data, reason=form.reason.data)
        except DomainError as error:
            db.session.rollback()
            if error.status_code == 403:
                raise
            form.form_errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The decision is recorded."), "success")
            back = (url_for("drafts.article", draft_id=draft.id, article_id=article_id) if article_id
                    else url_for("drafts.article", draft_id=draft.id))
            return redirect(back + "#summary-clusters", code=303)
    if form.cluster_id.data is None:
        abort(400)
    return _article_page(draft, article_id, refused=form)


def _report_or_404(draft_id: int) -> tuple[Draft, bool]:
    draft = _draft_or_404(draft_id)
    is_staff = services.can_read_summaries(current_user, draft)
    if draft.report_published_at is None and not is_staff:
        abort(404)
    return draft, is_staff


@bp.get("/<int:draft_id>/report")
def report(draft_id: int):
    """The feedback report (意见采纳情况说明): public once published; the body's staff see it before."""
    draft, is_staff = _report_or_404(draft_id)
    return _report_page(draft, is_staff, ReportForm(formdata=None, introduction=draft.report_introduction))


def _report_page(draft: Draft, is_staff: bool, form: ReportForm, status: int = 200):
    return render_template("drafts/report.html", draft=draft, report=feedback.feedback_report(draft),
                           is_staff=is_staff, labels=DECISION_LABELS, form=form), status


@bp.get("/<int:draft_id>/report.json")
def report_json(draft_id: int):
    """The feedback report as open data."""
    draft, _is_staff = _report_or_404(draft_id)
    data = feedback.report_data(draft, lambda i: url_for("suggestions.detail", suggestion_id=i, _external=True))
    return Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n", mimetype="application/json")


@bp.post("/<int:draft_id>/report")
@login_required
def publish_report(draft_id: int):
    """Publish the report with its introduction, or update the introduction (the body's staff)."""
    draft = _draft_or_404(draft_id)
    if not services.can_read_summaries(current_user, draft):
        abort(403)
    form = ReportForm()
    if form.validate():
        try:
            feedback.publish_report(current_user, draft, form.introduction.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The report is published."), "success")
            return redirect(url_for("drafts.report", draft_id=draft.id), code=303)
    return _report_page(draft, True, form, 422)
