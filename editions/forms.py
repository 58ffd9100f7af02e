"""Forms of an edition's management page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired


class OperatorForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter a username."))])
