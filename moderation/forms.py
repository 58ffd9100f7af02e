"""Moderation forms: a report, a queue decision, words for the list, and the audit-log filters."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, Optional, Regexp, ValidationError

from core.forms import CleanText, IdField, select_choices
from moderation.models import REPORT_REASON_LABELS, WORD_CATEGORY_LABELS
from moderation.services import HIDE_REASON_MAX_LENGTH, NOTE_MAX_LENGTH
from moderation.words import WORD_MAX_LENGTH, WORDS_PER_SUBMISSION
from suggestions.forms import REJECT_REASON_LABELS

ACTION_LABELS = {"publish": _l("Publish"), "reject": _l("Reject"), "hide": _l("Hide"),
                 "restore": _l("Restore"), "dismiss": _l("Dismiss the reports")}
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
CODE = r"^[a-z0-9_]{1,32}(\.[a-z0-9_]{0,31})?$"  # an action code, a group's prefix ("suggestion.") or a type


class ReportForm(FlaskForm):
    """A citizen's report of a proposal or a reply."""
    reason = RadioField(_l("What is wrong?"), choices=select_choices(REPORT_REASON_LABELS.items()),
                        validate_choice=False,
                        validators=[AnyOf(list(REPORT_REASON_LABELS), message=_l("Choose a reason for the report."))])
    note = TextAreaField(_l("Note for the moderators (optional)"), validators=[
        CleanText(_l("Note"), max_length=NOTE_MAX_LENGTH, min_length=0, multiline=True)],
        description=_l("The author is not told who reported."))


class DecisionForm(FlaskForm):
    """One action for the checked items of the queue, or for one item's own button (``single``)."""
    items = SelectMultipleField(_l("Items"), validate_choice=False)
    action = SelectField(_l("Action"), choices=select_choices(ACTION_LABELS.items()), validate_choice=False)
    single = StringField()
    reason = StringField(_l("Reason for hiding (optional)"), validators=[
        CleanText(_l("Reason"), max_length=HIDE_REASON_MAX_LENGTH, min_length=0)])
    reject_reason = SelectField(_l("Reason for rejecting"), choices=select_choices(REJECT_REASON_LABELS.items()),
                                validate_choice=False)


class WordsForm(FlaskForm):
    """Administrators add words to the sensitive-word list."""
    category = SelectField(_l("Category"), choices=select_choices(WORD_CATEGORY_LABELS.items()), validate_choice=False,
                           validators=[AnyOf(list(WORD_CATEGORY_LABELS), message=_l("Choose a category."))])
    words = TextAreaField(_l("Words, one a line"), validators=[
        CleanText(_l("Words"), max_length=WORDS_PER_SUBMISSION * (WORD_MAX_LENGTH + 1), multiline=True)],
        description=_l("Traditional and Simplified spellings match alike; spaces and punctuation are ignored. "
                       "At most %(n)d words at a time.", n=WORDS_PER_SUBMISSION))


def _plausible_date(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Choose a date between 2000 and 2100."))


class AuditFilterForm(FlaskForm):
    """The audit-log viewer's filters (a GET form: nothing to protect)."""
    class Meta:
        csrf = False

    actor = StringField(_l("Actor (user name)"), validators=[Optional(), CleanText(_l("Actor"), max_length=32)])
    # Choices are set by the view (the actions and object types the reader can find). A code in an older link that
    # is not among them still filters, shown as itself.
    action = SelectField(_l("Action"), validators=[Optional(), Regexp(CODE, message=_l("Choose an action."))],
                         validate_choice=False)
    target_type = SelectField(_l("Object type"), validators=[Optional(), Regexp(CODE, message=_l("Choose a type."))],
                              validate_choice=False)
    target_id = IdField(_l("Object number"))
    since = DateField(_l("From (date)"), validators=[Optional(), _plausible_date])
    until = DateField(_l("To (date)"), validators=[Optional(), _plausible_date])
