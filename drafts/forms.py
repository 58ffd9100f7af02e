"""The form that imports a draft, or a new version of it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField

from core.forms import CleanText


class ImportForm(FlaskForm):
    title = StringField(_l("Title"), validators=[CleanText(_l("Title"), max_length=200, min_length=0)],
                        description=_l("Leave empty to use the title the file gives."))
    document = FileField(_l("The draft as a file"),
                         description=_l("A .docx file, or Markdown or plain text (UTF-8), one paragraph per line."))
    text = TextAreaField(_l("Or paste the text"), validators=[
        CleanText(_l("Or paste the text"), max_length=300_000, min_length=0, multiline=True)])
    note = StringField(_l("Note"), validators=[CleanText(_l("Note"), max_length=500, min_length=0)],
                       description=_l("What this version is, such as 修改稿 (revised draft)."))
