"""Proposal, reply and moderation forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, ValidationError

from core.errors import InvalidInput
from core.forms import CleanText, IdField, MultiCheckboxField, select_choices
from suggestions import contacts
from suggestions.models import (
    DECISION_LABELS,
    MESSAGE_TYPE_LABELS,
    RATING_REASON_LABELS,
    SATISFACTION_LABELS,
    STAFF_DECISIONS,
)
from suggestions.services import (
    BODY_MAX_LENGTH,
    REJECT_REASONS,
    REPLY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    new_submission_key,
)

REJECT_REASON_LABELS = {"off_topic": _l("Off topic"), "duplicate": _l("Duplicate"), "abusive": _l("Abusive"),
                        "personal_data": _l("Contains personal data"), "not_a_proposal": _l("Not a proposal")}


class SuggestionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[CleanText(_l("Title"), max_length=TITLE_MAX_LENGTH, min_length=4)],
                        description=_l("One sentence that says what you propose (4 to %(n)d characters).",
                                       n=TITLE_MAX_LENGTH))
    body = TextAreaField(_l("Content"), validators=[
        CleanText(_l("Content"), max_length=BODY_MAX_LENGTH, min_length=10, multiline=True)],
        description=_l("The problem, what you propose and why (10 to %(n)d characters). Everyone can read it: "
                       "put your phone number or address in the private section below.", n=BODY_MAX_LENGTH))
    category = SelectField(_l("Category"), coerce=str, validate_choice=False,
                           validators=[InputRequired(_l("Choose a category."))])
    message_type = RadioField(_l("Type of message"), choices=select_choices(MESSAGE_TYPE_LABELS.items()),
                              default="suggestion", validate_choice=False,
                              validators=[AnyOf(list(MESSAGE_TYPE_LABELS), message=_l("Choose a message type."))])

    # The private section: only the author and the staff of the handling bodies see it.
    contact_name = StringField(_l("Full name"), validators=[
        CleanText(_l("Full name"), max_length=contacts.NAME_MAX_LENGTH, min_length=0)])
    contact_phone = StringField(_l("Phone"), validators=[
        CleanText(_l("Phone"), max_length=contacts.PHONE_MAX_LENGTH, min_length=0)],
        description=_l("A mobile number, or a landline with its area code."))
    contact_address = StringField(_l("Address"), validators=[
        CleanText(_l("Address"), max_length=contacts.ADDRESS_MAX_LENGTH, min_length=0)])
    contact_note = TextAreaField(_l("Other details for the handling body"), validators=[
        CleanText(_l("Other details for the handling body"), max_length=contacts.NOTE_MAX_LENGTH, min_length=0,
                  multiline=True)],
        description=_l("Only if the body needs them to handle your proposal, such as an ID number."))
    # Set when the form comes back with the warning about personal data in the text: the author has seen it.
    privacy_reviewed = HiddenField()
    # Made when the form is first shown and kept when it comes back for correction: the proposal it saves keeps
    # it, so the same form sent again finds that proposal instead of saving a second (services.submission_by_key).
    submission_key = HiddenField(default=new_submission_key)
    move_details = BooleanField(_l("Move these details to the private section"), default=True)
    # On a campaign with a draft (drafts/): the article commented on ("whole": the whole draft) and the passage.
    draft_article = HiddenField()
    draft_quote = TextAreaField(_l("The passage you comment on (optional)"), validators=[
        CleanText(_l("The passage you comment on (optional)"), max_length=500, min_length=0, multiline=True)],
        description=_l("Copied from the article's text."))

    def validate_category(self, field):
        if field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError(_l("Choose a category."))

    def validate_contact_phone(self, field):
        if field.data:
            try:
                field.data = contacts.format_phone(field.data)
            except InvalidInput as error:
                raise ValidationError(str(error.message)) from None

    def contact(self) -> contacts.ContactDetails:
        return contacts.ContactDetails(name=self.contact_name.data or "", phone=self.contact_phone.data or "",
                                       address=self.contact_address.data or "", note=self.contact_note.data or "")


class ReplyForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=select_choices((d, DECISION_LABELS[d]) for d in STAFF_DECISIONS),
                          validate_choice=False,
                          validators=[AnyOf(list(STAFF_DECISIONS), message=_l("Choose a decision."))])
    content = TextAreaField(_l("Official reply"), validators=[
        CleanText(_l("Reply"), max_length=REPLY_MAX_LENGTH, min_length=10, multiline=True)])


class RejectForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=select_choices((r, REJECT_REASON_LABELS[r]) for r in REJECT_REASONS))


class HideForm(FlaskForm):
    reason = StringField(_l("Reason for hiding"), validators=[CleanText(_l("Reason"), max_length=200)])


class ClusterActionForm(FlaskForm):
    """Staff review of a cluster: the proposal or cluster concerned, and why (kept in the audit log)."""
    suggestion_id = IdField(_l("Proposal"))
    other_cluster = IdField(_l("Cluster to merge into this one"))
    reason = StringField(_l("Reason"), validators=[CleanText(_l("Reason"), max_length=200, min_length=0)])


class ExtensionForm(FlaskForm):
    """Staff extend a reply deadline; the reason is shown on the proposal's public page."""
    new_due_on = DateField(_l("New deadline"), validators=[InputRequired(_l("Choose the new deadline."))])
    reason = StringField(_l("Reason for the extension"), validators=[CleanText(_l("Reason"), max_length=500)])


class RatingForm(FlaskForm):
    """The author's rating of the official reply."""
    satisfaction = RadioField(_l("How satisfied are you with the reply?"),
                              choices=select_choices(SATISFACTION_LABELS.items()),
                              validate_choice=False, validators=[
                                  AnyOf(list(SATISFACTION_LABELS), message=_l("Choose how satisfied you are."))])
    reasons = MultiCheckboxField(_l("Reasons (optional)"), choices=select_choices(RATING_REASON_LABELS.items()),
                                 validate_choice=False)
    comment = TextAreaField(_l("Comment (optional)"), validators=[
        CleanText(_l("Comment"), max_length=1000, min_length=0, multiline=True)])
