"""Verified mobile numbers (accounts.phones): one parser of what citizens type, and the two ways a stored number
is shown. Masking numbers inside free text is ``core.privacy``'s."""
import unicodedata

import phonenumbers

from core.privacy import mask_personal_data


def mainland_mobile(value: str | None) -> str | None:
    """``value`` as a mainland mobile number in E.164 form (+8613812345678), or None if it is not one.

    Spaces, dashes, full-width digits and a leading +86 / 0086 are accepted; landlines, short numbers and numbers
    outside the mainland are not (a verification code goes by SMS). Validated with ``phonenumbers``."""
    digits = "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in (value or "").strip())
    if not digits or len(digits) > 30:
        return None
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if (number.country_code != 86 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """A stored mobile number as the audit log and messages show it: 138****5678 (the masking of any text)."""
    national = e164.removeprefix("+86")
    masked = mask_personal_data(national)
    return masked if "*" in masked else f"{national[:3]}****{national[-4:]}"


def format_phone(e164: str) -> str:
    """A stored mobile number as its owner reads it: 138 1234 5678."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
