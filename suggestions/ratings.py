"""The author's rating of an official reply, and satisfaction per body.

The author rates each reply once: satisfied, basically satisfied or unsatisfied, with reason codes. A rating
saying the problem is not solved reopens the proposal, once, for a second reply with a fresh deadline.
"""
from flask_babel import lazy_gettext as _l

from accounts.models import User
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.text import clean_text
from suggestions.deadlines import start_deadline
from suggestions.models import Rating, RatingReason, Satisfaction, Status, Suggestion
from suggestions.notifications import notify

GOOD = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)


def rateable_reply(suggestion: Suggestion):
    """The latest reply if it still awaits the author's rating, else None."""
    if suggestion.status not in (Status.REPLIED, Status.CLOSED) or not suggestion.replies:
        return None
    latest = suggestion.replies[-1]
    return latest if latest.rating is None else None


def rate_reply(author: User, suggestion: Suggestion, satisfaction: str, reasons: list[str],
               comment: str = "") -> Rating:
    """Record the author's rating of the latest reply; "not solved" reopens the proposal the first time."""
    if author.id != suggestion.author_id:
        raise NotAllowed(_l("Only the author of the proposal may rate its reply."))
    reply = rateable_reply(suggestion)
    if reply is None:
        raise Conflict(_l("This reply has already been rated, or there is no reply to rate."))
    if satisfaction not in Satisfaction.__members__.values():
        raise InvalidInput(_l("Choose how satisfied you are."))
    if any(code not in RatingReason.__members__.values() for code in reasons):
        raise InvalidInput(_l("Choose reasons from the list."))
    comment = clean_text(comment, field=_l("Comment"), max_length=1000, min_length=0, multiline=True)
    rating = Rating(reply=reply, suggestion_id=suggestion.id, body_id=reply.body_id, author_id=author.id,
                    satisfaction=satisfaction, reasons=" ".join(sorted(set(reasons))), comment=comment)
    db.session.add(rating)
    reopen = (RatingReason.NOT_SOLVED in reasons and satisfaction == Satisfaction.UNSATISFIED
              and suggestion.reopened_at is None)
    audit.record(author, "reply.rate", suggestion, body_id=suggestion.campaign.body_id, satisfaction=satisfaction,
                 reasons=rating.reasons, reopened=reopen)
    if reopen:
        suggestion.status, suggestion.closed_at = Status.ACCEPTED, None
        suggestion.reopened_at = suggestion.accepted_at = utcnow()
        start_deadline(suggestion, needs_investigation=suggestion.needs_investigation, keep_earlier=False)
        notify(suggestion, "reopened", author)
    db.session.flush()
    return rating
