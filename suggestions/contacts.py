"""A proposal's private contact details: checked, and moved out of the public text on the author's request.

The details (name, phone, address and a note: all optional) go into ``PrivateContact``, which only the author
and the staff of the handling bodies see (``Suggestion.private_details_visible_to``). When the text itself holds
personal data, the submit form offers to move it here: each detail leaves the text (which keeps it masked, as the
public would see it) and fills the matching field, or the note.
"""
from dataclasses import dataclass, replace

import phonenumbers
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import InvalidInput
from core.privacy import KIND_LABELS, Finding, find_personal_data
from core.text import clean_text

NAME_MAX_LENGTH, PHONE_MAX_LENGTH, ADDRESS_MAX_LENGTH, NOTE_MAX_LENGTH = 50, 40, 200, 2000
_FIELD_OF_KIND = {"mobile": "phone", "landline": "phone", "name": "name", "address": "address"}


@dataclass(frozen=True)
class ContactDetails:
    """What the author typed into the private section (every field optional)."""
    name: str = ""
    phone: str = ""
    address: str = ""
    note: str = ""

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.address or self.note)


def format_phone(value: str) -> str:
    """A mainland mobile or landline (with its area code) in its usual national form (138 1234 5678,
    0571 8888 8882), or ``InvalidInput``."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(_l("Enter a mobile number (11 digits) or a landline with its area code, "
                              "such as 0571-88888888."))
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def clean_contact(contact: ContactDetails | None) -> ContactDetails:
    """The details trimmed and checked, the phone number in its usual form; ``InvalidInput`` names the field."""
    contact = contact or ContactDetails()
    phone = clean_text(contact.phone, field=_l("Phone"), max_length=PHONE_MAX_LENGTH, min_length=0)
    return ContactDetails(
        name=clean_text(contact.name, field=_l("Full name"), max_length=NAME_MAX_LENGTH, min_length=0),
        phone=format_phone(phone) if phone else "",
        address=clean_text(contact.address, field=_l("Address"), max_length=ADDRESS_MAX_LENGTH, min_length=0),
        note=clean_text(contact.note, field=_l("Other details for the handling body"), max_length=NOTE_MAX_LENGTH,
                        min_length=0, multiline=True))


def findings_in(title: str, text: str) -> list[tuple[str, Finding]]:
    """The personal data in a proposal's title and text, as (which of the two, finding)."""
    return ([("title", f) for f in find_personal_data(title)]
            + [("body", f) for f in find_personal_data(text)])


def _cut(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding replaced by its masked form."""
    for found in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[:found.start] + found.replacement + text[found.end:]
    return text


def _as_phone(value: str) -> str | None:
    try:
        return format_phone(value)
    except InvalidInput:
        return None


def move_into_contact(title: str, text: str, contact: ContactDetails) -> tuple[str, str, ContactDetails]:
    """Take the personal data out of the title and text (leaving them masked) and into the private section:
    the first phone number, name and address fill their fields if the author left them empty; everything else
    (a second number, an ID or bank card number, accounts, plates) is added to the note, one line each."""
    fields = {"name": contact.name, "phone": contact.phone, "address": contact.address}
    notes = [contact.note] if contact.note else []
    found = findings_in(title, text)
    for where, finding in found:
        value = finding.value(title if where == "title" else text)
        field = _FIELD_OF_KIND.get(finding.kind)
        if field == "phone":
            value = _as_phone(value) or value
        if field and not fields[field] and (field != "phone" or _as_phone(value)):
            fields[field] = value
        elif value not in fields.values():
            line = _("%(kind)s: %(value)s", kind=KIND_LABELS[finding.kind], value=value)  # the colon is ：in Chinese
            if line not in notes:
                notes.append(line)
    moved = replace(contact, **fields, note="\n".join(notes))
    return (_cut(title, [f for where, f in found if where == "title"]),
            _cut(text, [f for where, f in found if where == "body"]), moved)
