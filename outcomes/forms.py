"""Outcome forms (staff)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from core.forms import CleanText, IdField, select_choices
from outcomes.models import STAGE_LABELS


class OutcomeForm(FlaskForm):
    title = StringField(_l("What was decided"), validators=[CleanText(_l("What was decided"), max_length=200)])
    issuing_body = SelectField(_l("Issuing body"), coerce=int, validators=[InputRequired(_l("Choose a body."))])
    document_name = StringField(_l("Document"), validators=[CleanText(_l("Document"), max_length=200, min_length=0)],
                                description=_l("e.g. 青溪县城区学校交通安全管理办法"))
    document_number = StringField(_l("Document number"), validators=[
        CleanText(_l("Document number"), max_length=100, min_length=0)], description=_l("e.g. 青政办发〔2026〕12号"))
    issued_on = DateField(_l("Date issued (optional)"), validators=[Optional()])
    link = StringField(_l("Link to the document (optional)"), validators=[
        CleanText(_l("Link"), max_length=500, min_length=0)])
    clause = TextAreaField(_l("Article or clause concerned"), validators=[
        CleanText(_l("Clause"), max_length=5000, min_length=0, multiline=True)])
    stage = SelectField(_l("Stage"), choices=select_choices(STAGE_LABELS.items()))
    progress = IntegerField(_l("Progress (%)"), default=0, validators=[
        InputRequired(_l("Give the progress as a number from 0 to 100.")),
        NumberRange(0, 100, message=_l("Progress is a percentage from 0 to 100."))])


class MilestoneForm(FlaskForm):
    happened_on = DateField(_l("Date"), validators=[InputRequired(_l("Give the milestone's date."))])
    title = StringField(_l("Milestone"), validators=[CleanText(_l("Milestone"), max_length=200)])
    note = TextAreaField(_l("Note (optional)"), validators=[
        CleanText(_l("Note"), max_length=2000, min_length=0, multiline=True)])


class LinkForm(FlaskForm):
    suggestion_id = IdField(_l("Proposal number"))
    cluster_id = IdField(_l("Cluster number"))
