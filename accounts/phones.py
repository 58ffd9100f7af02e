"""Verified mobile numbers (后台实名): a campaign may ask for one before a citizen submits or supports.

The flow: the citizen types a mainland mobile number; a six-digit code goes to it through the SMS gateway
(``core.sms``, chosen by ``SMS_BACKEND``); typing the code back within ``PHONE_CODE_MINUTES`` (10) verifies the
number for the account. A code is stored as an HMAC keyed with the site's secret (a plain hash of one of a
million codes would be reversed at once), works once, and is voided after ``PHONE_CODE_MAX_ATTEMPTS`` (5) wrong
tries; asking for a new one closes the previous one. At most ``PHONE_CODES_PER_NUMBER_PER_HOUR`` (3) codes go to
one number and ``PHONE_CODES_PER_ACCOUNT_PER_HOUR`` (5) to one account an hour, and none within
``PHONE_CODE_RESEND_SECONDS`` (60) of the last (the page itself is rate-limited per address: SMS pumping costs
money). One account per number, and nobody learns from this page whether a number is registered: asking for a
code for a number another account verified gets the same answer as for any number (and counts against the same
limits), but no text message is sent and no typed code matches; only someone holding a real code for it, sent
before the other account verified it, is told that the number is taken. A verified number stays with its
account; only an administrator releases it (so that one telephone cannot verify account after account).

Tries are counted in the database, in one statement (``UPDATE … SET attempts = attempts + 1 WHERE … AND
attempts < max RETURNING attempts``): two requests that read the code at once cannot both pass the check.

Services flush; the caller commits. The number is never public; audit rows carry it masked (138****5678).
"""
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import PhoneCode, User, VerifiedPhone
from accounts.permissions import require_admin
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.phones import mainland_mobile, mask_phone
from core.sms import SmsGateway

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodeRules:
    """How codes work: the key of their hashes and the limits (``from_config`` reads the PHONE_* settings)."""
    key: str
    minutes: int = 10
    max_attempts: int = 5
    per_number_per_hour: int = 3
    per_account_per_hour: int = 5
    resend_seconds: int = 60

    @classmethod
    def from_config(cls, config) -> "CodeRules":
        return cls(key=config["SECRET_KEY"], minutes=config["PHONE_CODE_MINUTES"],
                   max_attempts=config["PHONE_CODE_MAX_ATTEMPTS"],
                   per_number_per_hour=config["PHONE_CODES_PER_NUMBER_PER_HOUR"],
                   per_account_per_hour=config["PHONE_CODES_PER_ACCOUNT_PER_HOUR"],
                   resend_seconds=config["PHONE_CODE_RESEND_SECONDS"])


class PhoneRequired(NotAllowed):
    """The campaign asks for a verified mobile number and the account has none."""


class PhoneTaken(Conflict):
    """Another account has verified this number (said only to someone who typed a real code for it)."""

    default_message = _l("This number is already verified by another account: one number verifies one account. "
                         "If the number is yours, please contact the site's administrators.")


ALREADY_VERIFIED = _l("Your account already has a verified number. To change it, please contact the site's "
                      "administrators.")
NO_VALID_CODE = _l("There is no valid code: it has expired, been used or been voided after too many wrong tries. "
                   "Please ask for a new one.")


class WrongCode(InvalidInput):
    """A wrong code. The try has been counted (and the code voided after the last one) and flushed before this
    is raised: the caller commits, unlike after other refusals, or wrong tries would cost nothing."""


def verified_phone(user: User) -> VerifiedPhone | None:
    """The account's verified number, if any (for its owner's eyes only)."""
    return db.session.get(VerifiedPhone, user.id)


def has_verified_phone(user: User) -> bool:
    return user is not None and getattr(user, "id", None) is not None and verified_phone(user) is not None


def require_verified_phone(user: User, message) -> None:
    """Raise ``PhoneRequired`` with ``message`` unless the account has a verified number."""
    if not has_verified_phone(user):
        raise PhoneRequired(message)


def pending_code(user: User, now: datetime | None = None) -> PhoneCode | None:
    """The account's latest code that can still be typed (not used, voided, replaced or expired)."""
    code = db.session.scalar(sa.select(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.closed_at.is_(None))
                             .order_by(PhoneCode.id.desc()).limit(1))
    return code if code is not None and code.expires_at > (now or utcnow()) else None


def _hash(rules: CodeRules, user_id: int, number: str, code: str) -> str:
    message = f"jianyan-phone-code:{user_id}:{number}:{code}".encode()
    return hmac.new(rules.key.encode(), message, hashlib.sha256).hexdigest()


def _count_since(*condition, since: datetime) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PhoneCode)
                             .where(*condition, PhoneCode.created_at > since))


def _taken_by_another(user: User, number: str) -> bool:
    owner = db.session.scalar(sa.select(VerifiedPhone.user_id).where(VerifiedPhone.number == number))
    return owner is not None and owner != user.id


def request_code(user: User, number: str, *, gateway: SmsGateway, rules: CodeRules,
                 now: datetime | None = None) -> PhoneCode:
    """Send a verification code to a mainland mobile number for ``user``; any earlier open code is closed."""
    now = now or utcnow()
    if user is None or not user.is_active:
        raise NotAllowed()
    if verified_phone(user) is not None:
        raise Conflict(ALREADY_VERIFIED)
    e164 = mainland_mobile(number)
    if e164 is None:
        raise InvalidInput(_l("Enter a mainland mobile number of 11 digits, such as 138 1234 5678."))
    hour_ago = now - timedelta(hours=1)
    if _count_since(PhoneCode.number == e164, since=hour_ago) >= rules.per_number_per_hour:
        raise Conflict(_l("Too many codes have been sent to this number in the last hour. Please try again later."))
    if _count_since(PhoneCode.user_id == user.id, since=hour_ago) >= rules.per_account_per_hour:
        raise Conflict(_l("You have asked for too many codes in the last hour. Please try again later."))
    if _count_since(PhoneCode.user_id == user.id, since=now - timedelta(seconds=rules.resend_seconds)):
        raise Conflict(_l("A code was sent less than %(n)d seconds ago. Please wait a moment before asking for "
                          "another.", n=rules.resend_seconds))
    db.session.execute(sa.update(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.closed_at.is_(None))
                       .values(closed_at=now))
    # A number another account verified is treated like any other, except that its code is a secret nobody is
    # told (and longer than any code typed): answering "taken" here would let anyone find out which numbers
    # are registered.
    taken = _taken_by_another(user, e164)
    code = secrets.token_hex(16) if taken else f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    entry = PhoneCode(user_id=user.id, number=e164, code_hash=_hash(rules, user.id, e164, code), created_at=now,
                      expires_at=now + timedelta(minutes=rules.minutes), attempts=0)
    db.session.add(entry)
    if taken:
        audit.record(user, "phone.code_withheld", user, phone=mask_phone(e164))
    else:
        gateway.send_code(e164, code, rules.minutes)
        audit.record(user, "phone.send_code", user, phone=mask_phone(e164))
    db.session.flush()
    return entry


def _typed_code(code: str | None) -> str:
    """The digits typed, full-width and spaces allowed; ``InvalidInput`` unless there are exactly six."""
    digits = "".join(str(unicodedata.digit(ch)) for ch in (code or "") if ch.isdecimal())
    stray = [ch for ch in (code or "") if not ch.isdecimal() and not ch.isspace()]
    if stray or len(digits) != CODE_DIGITS:
        raise InvalidInput(_l("The code has 6 digits."))
    return digits


def _take_try(code: PhoneCode, rules: CodeRules, now: datetime) -> int | None:
    """Count one try at ``code`` in one statement, if it can still be tried (open, unexpired, under the limit);
    returns the tries counted so far, this one included, or None when it could not be tried."""
    tries = db.session.execute(
        sa.update(PhoneCode)
        .where(PhoneCode.id == code.id, PhoneCode.closed_at.is_(None), PhoneCode.expires_at > now,
               PhoneCode.attempts < rules.max_attempts)
        .values(attempts=PhoneCode.attempts + 1)
        .returning(PhoneCode.attempts)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    db.session.expire(code, ["attempts"])
    return tries


def _close(code: PhoneCode, now: datetime) -> None:
    """Close a code this transaction has just counted a try at (its row is locked until the commit)."""
    db.session.execute(sa.update(PhoneCode).where(PhoneCode.id == code.id).values(closed_at=now)
                       .execution_options(synchronize_session=False))
    db.session.expire(code)


def confirm_code(user: User, code: str, *, rules: CodeRules, now: datetime | None = None) -> VerifiedPhone:
    """Verify the number of the account's open code with the code typed back. Every try is counted first, in
    the database; a wrong code raises ``WrongCode`` (flushed: commit it) and the last allowed wrong try voids
    the code. A number another account verified meanwhile raises ``PhoneTaken``."""
    now = now or utcnow()
    typed = _typed_code(code)
    pending = pending_code(user, now)
    tries = _take_try(pending, rules, now) if pending is not None else None
    if tries is None:  # none open, or voided or used by another request since it was read
        raise Conflict(NO_VALID_CODE)
    number = pending.number
    if not hmac.compare_digest(pending.code_hash, _hash(rules, user.id, number, typed)):
        left = rules.max_attempts - tries
        if left <= 0:
            _close(pending, now)
        audit.record(user, "phone.wrong_code", user, phone=mask_phone(number), attempts=tries, voided=left <= 0)
        db.session.flush()
        if left <= 0:
            raise WrongCode(_l("Wrong code. It has been voided after %(n)d wrong tries: please ask for a new one.",
                               n=rules.max_attempts))
        raise WrongCode(_l("Wrong code. %(n)d tries left.", n=left))
    _close(pending, now)
    if _taken_by_another(user, number):
        raise PhoneTaken()
    phone = VerifiedPhone(user_id=user.id, number=number, verified_at=now)
    try:
        with db.session.begin_nested():  # another account may verify the number between the check and here
            db.session.add(phone)
    except sa.exc.IntegrityError:
        if verified_phone(user) is not None:  # this account, in another request at the same moment
            raise Conflict(ALREADY_VERIFIED) from None
        raise PhoneTaken() from None
    audit.record(user, "phone.verify", user, phone=mask_phone(number))
    db.session.flush()
    return phone


def release_phone(actor: User | None, user: User) -> str:
    """Administrators (or the CLI, actor None) take a verified number off an account, which may then verify
    another and the number another account; returns the number masked."""
    if actor is not None:
        require_admin(actor)
    phone = verified_phone(user)
    if phone is None:
        raise Conflict(_l("This account has no verified number."))
    masked = mask_phone(phone.number)
    db.session.delete(phone)
    audit.record(actor, "phone.release", user, phone=masked)
    db.session.flush()
    return masked
