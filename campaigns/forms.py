"""Campaign forms: creation by staff and the public list filters."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from core.forms import CleanText, MultiCheckboxField, select_choices


class CampaignForm(FlaskForm):
    body_id = SelectField(_l("Body"), coerce=int, validators=[InputRequired(_l("Choose a body."))])
    title = StringField(_l("Title"), validators=[CleanText(_l("Title"), max_length=120)])
    theme = StringField(_l("Theme"), validators=[CleanText(_l("Theme"), max_length=120, min_length=0)])
    description = TextAreaField(_l("Description"), validators=[
        CleanText(_l("Description"), max_length=5000, min_length=0, multiline=True)])
    categories = MultiCheckboxField(_l("Categories"), coerce=int,
                                    validators=[InputRequired(_l("Choose at least one category."))])
    region_scope = StringField(_l("Region"), validators=[CleanText(_l("Region"), max_length=80, min_length=0)])
    opens_at = DateTimeLocalField(_l("Opens at (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired(_l("Give the opening time."))])
    closes_at = DateTimeLocalField(_l("Closes at (leave empty for a standing campaign)"),
                                   format="%Y-%m-%dT%H:%M", validators=[Optional()])
    allow_oppose = BooleanField(_l("Citizens may also oppose proposals"))
    screening = BooleanField(_l("Staff screen proposals before they are published"))
    reply_working_days = IntegerField(_l("Reply deadline (working days after acceptance)"), default=10,
                                      validators=[Optional()])
    investigation_working_days = IntegerField(_l("Reply deadline when investigation is needed (working days)"),
                                              default=20, validators=[Optional()])
    support_threshold = IntegerField(_l("Support threshold (optional)"), validators=[Optional()],
                                     description=_l("A proposal reaching this many supports must be answered; its "
                                                    "deadline starts then (the UK petitions site: 10,000)."))
    support_window_days = IntegerField(_l("…reached within this many days of publication (optional)"),
                                       validators=[Optional()], description=_l("Taiwan's Join platform: 60 days."))
    max_extensions = IntegerField(_l("Deadline extensions allowed per proposal"), default=1,
                                  validators=[Optional()],
                                  description=_l("Each extension needs a reason, shown on the proposal's page."))
    max_extension_working_days = IntegerField(_l("Working days one extension may add at most"), default=15,
                                              validators=[Optional()])
    report_hide_threshold = IntegerField(
        _l("Hide a proposal after this many reports"), default=3, validators=[Optional()],
        description=_l("Reports from different accounts, not counting the staff of the bodies handling the proposal; "
                       "the proposal stays hidden until a moderator decides. Only published proposals are hidden "
                       "this way. 0: never hide automatically; fewer than 3 only by an administrator."))
    phone_to_submit = BooleanField(_l("A verified mobile number is needed to submit a proposal"), description=_l(
        "Participants verify a mobile number (后台实名); no one else sees it, the body included."))
    phone_to_vote = BooleanField(_l("A verified mobile number is needed to support or oppose proposals"))
    open_now = BooleanField(_l("Open the campaign now"), default=True)


class CampaignFilterForm(FlaskForm):
    class Meta:
        csrf = False

    # "All" leaves archived campaigns out (retired from the list); they are one choice away.
    phase = SelectField(_l("Status"), choices=select_choices([
                            ("", _l("All")), ("open", _l("Open")), ("closing_soon", _l("Closing soon")),
                            ("upcoming", _l("Upcoming")), ("closed", _l("Closed")), ("archived", _l("Archived"))]),
                        validators=[Optional()])
    body = SelectField(_l("Body"), coerce=str, validators=[Optional()])
    level = SelectField(_l("Level"), validators=[Optional()])
    region = StringField(_l("Region"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
