"""Registration, login, language and administration forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from accounts.models import BODY_KIND_LABELS, BODY_LEVEL_LABELS, MEMBERSHIP_ROLE_LABELS, ROLE_LABELS
from core.forms import CleanText


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        CleanText(_l("Username"), max_length=32, min_length=3)],
        description=_l("3 to 32 letters, digits, underscores or Chinese characters."))
    display_name = StringField(_l("Display name (optional)"), validators=[
        CleanText(_l("Display name"), max_length=40, min_length=0)])
    email = StringField(_l("E-mail (optional)"), validators=[CleanText(_l("E-mail"), max_length=254, min_length=0)],
                        description=_l("To be told when a proposal you wrote, support or follow is answered."))
    password = PasswordField(_l("Password"), validators=[
        InputRequired(_l("Please enter a password.")),
        Length(min=8, max=128, message=_l("The password must be 8 to 128 characters."))])
    confirm = PasswordField(_l("Repeat password"), validators=[
        EqualTo("password", message=_l("The two passwords do not match."))])


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter your username."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password."))])
    next = HiddenField()


class LanguageForm(FlaskForm):
    language = HiddenField()
    next = HiddenField()


class BodyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[CleanText(_l("Name"), max_length=120)])
    name_en = StringField(_l("English name (optional)"), validators=[
        CleanText(_l("English name"), max_length=200, min_length=0)])
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in BODY_KIND_LABELS.items()])
    level = SelectField(_l("Level"), choices=[(k.value, v) for k, v in BODY_LEVEL_LABELS.items()])
    region = StringField(_l("Region"), validators=[CleanText(_l("Region"), max_length=80)],
                         description=_l("e.g. 江南省临川市"))
    parent_id = SelectField(_l("Parent body (optional)"), coerce=str, validate_choice=False)
    contact_email = StringField(_l("Contact e-mail for deadline reminders (optional)"), validators=[
        CleanText(_l("Contact e-mail"), max_length=254, min_length=0)])


class MemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter a username."))])
    role = SelectField(_l("Role in the body"), choices=list(MEMBERSHIP_ROLE_LABELS.items()))


class SiteRoleForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter a username."))])
    role = SelectField(_l("Site role"), choices=[(k.value, v) for k, v in ROLE_LABELS.items()])
