"""Form helpers shared by every package."""
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.errors import InvalidInput
from core.params import MAX_ID
from core.text import clean_text


def select_choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """The choices of a select, radio or checkbox field from (value, label) pairs: WTForms reads plain tuples no
    more after 3.3; code reading a field's choices uses ``choice.value`` and ``choice.label``."""
    return [SelectChoice(value, label) for value, label in pairs]


class CleanText:
    """WTForms validator applying ``core.text.clean_text``; the cleaned value replaces ``field.data``."""

    def __init__(self, label, *, max_length: int, min_length: int = 1, multiline: bool = False):
        self.label, self.max_length, self.min_length, self.multiline = label, max_length, min_length, multiline

    def __call__(self, form, field):
        try:
            field.data = clean_text(field.data, field=self.label, max_length=self.max_length,
                                    min_length=self.min_length, multiline=self.multiline)
        except InvalidInput as error:
            field.errors[:] = []
            raise ValidationError(str(error.message)) from None


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IdField(IntegerField):
    """The number of a proposal or cluster typed or chosen in a form: optional, from 1 to ``MAX_ID``."""

    def __init__(self, label=None, validators=None, **kwargs):
        checks = [Optional(), NumberRange(1, MAX_ID, message=_l("There is no item with this number."))]
        super().__init__(label, checks + list(validators or []), **kwargs)
