"""The forms of drafts: importing a draft or a new version, deciding on comments, publishing the report."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from core.forms import CleanText, IdField, select_choices
from drafts.models import DECISION_LABELS


class ImportForm(FlaskForm):
    title = StringField(_l("Title"), validators=[CleanText(_l("Title"), max_length=200, min_length=0)],
                        description=_l("Leave empty to use the title the file gives."))
    document = FileField(_l("The draft as a file"),
                         description=_l("A .docx file, or Markdown or plain text (UTF-8), one paragraph per line."))
    text = TextAreaField(_l("Or paste the text"), validators=[
        CleanText(_l("Or paste the text"), max_length=300_000, min_length=0, multiline=True)])
    note = StringField(_l("Note"), validators=[CleanText(_l("Note"), max_length=500, min_length=0)],
                       description=_l("What this version is, such as 修改稿 (revised draft)."))


class DecisionForm(FlaskForm):
    """The decision on one cluster of comments about an article (article empty: the whole draft)."""
    cluster_id = IdField(validators=[InputRequired(_l("Choose a group of comments."))])
    article_id = IdField()
    decision = SelectField(_l("Decision"),
                           choices=select_choices([("", "—")] + [(k.value, v) for k, v in DECISION_LABELS.items()]),
                           validators=[InputRequired(_l("Choose a decision."))])
    reason = TextAreaField(_l("Reason"), validators=[CleanText(_l("Reason"), max_length=1000, min_length=4,
                                                               multiline=True)])


class ReportForm(FlaskForm):
    introduction = TextAreaField(_l("Introduction"), validators=[
        CleanText(_l("Introduction"), max_length=5000, min_length=10, multiline=True)],
        description=_l("How the consultation went and how the comments were considered, as the report opens."))
