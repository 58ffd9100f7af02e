"""The form to create a personal API token (revoking posts only the CSRF token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from api.tokens import NAME_MAX_LENGTH
from core.forms import CleanText


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[CleanText(_l("Token name"), max_length=NAME_MAX_LENGTH)],
                       description=_l("What the token is for, e.g. the program that will use it."))

