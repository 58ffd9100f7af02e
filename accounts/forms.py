"""Registration, login, account settings, password, language and administration forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

from accounts.models import BODY_KIND_LABELS, BODY_LEVEL_LABELS, MEMBERSHIP_ROLE_LABELS, ROLE_LABELS
from accounts.password_policy import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from accounts.services import EMAIL_PATTERN
from core.forms import CleanText, select_choices

PASSWORD_HELP = _l("At least %(n)d characters; not your username and not a common password such as 12345678. "
                   "A few unrelated words are easy to remember and hard to guess.", n=PASSWORD_MIN_LENGTH)


def new_password_field(label):
    return PasswordField(label, validators=[
        InputRequired(_l("Please enter a password.")),
        Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH,
               message=_l("The password must be %(min)d to %(max)d characters.",
                          min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH))], description=PASSWORD_HELP)


def repeat_password_field():
    return PasswordField(_l("Repeat password"), validators=[
        EqualTo("password", message=_l("The two passwords do not match."))])


def display_name_field():
    return StringField(_l("Display name (optional)"), validators=[
        CleanText(_l("Display name"), max_length=40, min_length=0)],
        description=_l("Shown with your proposals. Without one you appear under a code name such as %(example)s.",
                       example=_l("Participant·%(code)s", code="3F8A2C")))


def email_field():
    return StringField(_l("E-mail (optional)"), validators=[CleanText(_l("E-mail"), max_length=254, min_length=0)],
                       description=_l("To be told when a proposal you wrote, support or follow is answered, "
                                      "and to reset a forgotten password."))


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        CleanText(_l("Username"), max_length=32, min_length=3)],
        description=_l("3 to 32 letters, digits, underscores or Chinese characters. Used to log in; never shown "
                       "to others."))
    display_name = display_name_field()
    email = email_field()
    password = new_password_field(_l("Password"))
    confirm = repeat_password_field()
    next = HiddenField()


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter your username."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password."))])
    next = HiddenField()


class ProfileForm(FlaskForm):
    display_name = display_name_field()
    email = email_field()
    current_password = PasswordField(_l("Current password (only to change the e-mail address)"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        InputRequired(_l("Please enter your current password."))])
    password = new_password_field(_l("New password"))
    confirm = repeat_password_field()


class ResetRequestForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[
        InputRequired(_l("Please enter your e-mail address.")), CleanText(_l("E-mail"), max_length=254),
        Regexp(EMAIL_PATTERN.pattern + r"\Z", message=_l("Enter a valid e-mail address."))],
        description=_l("The address you gave at registration or in your settings."))


class ResetPasswordForm(FlaskForm):
    password = new_password_field(_l("New password"))
    confirm = repeat_password_field()


class LanguageForm(FlaskForm):
    language = HiddenField()
    next = HiddenField()


class BodyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[CleanText(_l("Name"), max_length=120)])
    name_en = StringField(_l("English name (optional)"), validators=[
        CleanText(_l("English name"), max_length=200, min_length=0)])
    kind = SelectField(_l("Kind"), choices=select_choices((k.value, v) for k, v in BODY_KIND_LABELS.items()))
    level = SelectField(_l("Level"), choices=select_choices((k.value, v) for k, v in BODY_LEVEL_LABELS.items()))
    region = StringField(_l("Region"), validators=[CleanText(_l("Region"), max_length=80)],
                         description=_l("e.g. 江南省临川市"))
    parent_id = SelectField(_l("Parent body (optional)"), coerce=str, validate_choice=False)
    contact_email = StringField(_l("Contact e-mail for deadline reminders (optional)"), validators=[
        CleanText(_l("Contact e-mail"), max_length=254, min_length=0)])


class MemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter a username."))])
    role = SelectField(_l("Role in the body"), choices=select_choices(MEMBERSHIP_ROLE_LABELS.items()))


class MemberRoleForm(FlaskForm):
    role = SelectField(_l("Role in the body"), choices=select_choices(MEMBERSHIP_ROLE_LABELS.items()))


class SiteRoleForm(FlaskForm):
    role = SelectField(_l("Site role"), choices=select_choices((k.value, v) for k, v in ROLE_LABELS.items()),
                       description=_l("“Citizen” also removes the person from every body's staff. Staff are made "
                                      "by adding them to a body."))


class DeactivateForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[CleanText(_l("Reason"), max_length=200)],
                         description=_l("Recorded in the audit log, e.g. 冒充机构发布信息."))


class PhoneForm(FlaskForm):
    """Step 1 of verifying a mobile number: the number, to which a code is sent."""
    phone = StringField(_l("Mobile number"), validators=[
        InputRequired(_l("Please enter your mobile number.")), CleanText(_l("Mobile number"), max_length=30)],
        description=_l("A mainland mobile number. Only you see it; it is never shown to others."))
    next = HiddenField()


class PhoneCodeForm(FlaskForm):
    """Step 2: the six-digit code received by SMS."""
    code = StringField(_l("Verification code"), validators=[
        InputRequired(_l("Please enter the code.")), CleanText(_l("Verification code"), max_length=20)],
        description=_l("The 6 digits of the text message."))
    next = HiddenField()
