"""Registration, login and language forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from core.forms import CleanText


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        CleanText(_l("Username"), max_length=32, min_length=3)],
        description=_l("3 to 32 letters, digits, underscores or Chinese characters."))
    display_name = StringField(_l("Display name (optional)"), validators=[
        CleanText(_l("Display name"), max_length=40, min_length=0)])
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
