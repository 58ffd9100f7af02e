"""History import: an existing message board's messages and replies become proposals of a closed campaign.

Service functions only (no Flask request); ``flask analytics import-messages`` (``analytics/cli.py``) calls
``import_messages`` and commits each batch. The decisions (see docs/architecture.md, "History import"):

- Each row is one ``Suggestion`` with ``source`` (the file stem unless given) and ``source_ref`` (the board's
  message number); the pair is unique, so a row already imported is skipped and re-running imports nothing
  twice. A number seen twice in one file keeps its first row (the second is counted as ``duplicate_ref``).
- The message time is the creation, publication and acceptance (受理) time: a board records no separate
  acceptance date, so handling time runs from the message to the first reply. Rows with a reply are
  ``replied`` (handling body: the importing body); rows without one stay ``published``, not accepted.
- Replies carry ``Decision.NOT_RECORDED`` (the board kept no decision) and are written by one inactive system
  account; ``deadlines.record_first_reply`` sets the handling time (empty when the reply predates the
  message). No reply deadline is set, so reply rates and overdue counts leave imported rows out.
- Authors: one inactive citizen account per distinct board user (username ``imp_`` + a hash of source and
  user, display name 留言用户, no usable password), so distinct participants count right and no name is kept.
- Message type: from the type column when mapped (建议/投诉/求助/咨询/感谢 or the codes), else guessed from the
  title's keywords (``guess_message_type``); category: from the category column (matched by name or code,
  created when new), else 未分类.
- Text is trimmed, its line endings folded (``core.text.normalise_input``) and its invisible format characters
  (bidi overrides, zero-width spaces) dropped; a title longer than the site's limit is cut with "…" rather than
  refused; a row is skipped, with its reason counted, when the title, body
  or time is missing or unreadable, a field holds control characters, or a text is beyond the import limits.
"""
import csv
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from accounts.models import Body, Role, User
from campaigns.models import Campaign, CampaignStatus, Category
from core import audit
from core.chinese import to_simplified
from core.extensions import db
from core.models import utcnow
from core.text import has_invalid_characters, normalise_input, remove_format_characters
from suggestions.deadlines import record_first_reply
from suggestions.models import Decision, MessageType, Reply, Status, Suggestion

FIELDS = ("ref", "user", "title", "time", "body", "reply", "reply_time", "category", "type")
REQUIRED_FIELDS = ("ref", "title", "time", "body")
# The columns of the development file (messages_with_replies.csv); category and type are not mapped by default.
DEFAULT_COLUMNS = {"ref": "留言编号", "user": "留言用户", "title": "留言主题", "time": "留言时间",
                   "body": "留言详情", "reply": "答复意见", "reply_time": "答复时间"}
# Tried in order; %m and %d also read single digits (2019/4/5 9:32:09). Date-only values mean midnight.
DEFAULT_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                        "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d", "%Y-%m-%d")
DEFAULT_TIMEZONE = "Asia/Shanghai"
EARLIEST_YEAR = 1990

TITLE_MAX_LENGTH = 80        # as on the site (suggestions.services); longer titles are cut, not refused
BODY_MAX_LENGTH = 50_000     # boards allow longer messages than the site's form; beyond this a row is refused
REPLY_MAX_LENGTH = 50_000
REF_MAX_LENGTH = 64          # Suggestion.source_ref
SOURCE_MAX_LENGTH = 32       # Suggestion.source
CATEGORY_MAX_LENGTH = 40     # Category.name
UNCATEGORISED = ("uncategorised", "未分类", "Uncategorised")
AUTHOR_DISPLAY_NAME = "留言用户"
SYSTEM_USERNAME = "history_import"
SYSTEM_DISPLAY_NAME = "历史留言导入"
UNUSABLE_PASSWORD = "!"      # not an argon2 hash: verification always fails, and the accounts are inactive too

TYPE_NAMES = {"建议": MessageType.SUGGESTION, "投诉": MessageType.COMPLAINT, "求助": MessageType.HELP,
              "咨询": MessageType.QUESTION, "感谢": MessageType.THANKS,
              **{t.value: t for t in MessageType}}
# Title keywords, tried in order: the first match decides. Most board messages report a problem (反映), so a
# title matching none is a complaint (投诉).
TYPE_KEYWORDS = ((MessageType.THANKS, ("感谢", "表扬", "致谢", "点赞")),
                 (MessageType.SUGGESTION, ("建议", "提议", "倡议", "呼吁", "意见")),
                 (MessageType.HELP, ("求助", "救助", "帮助", "帮忙", "求救")),
                 (MessageType.QUESTION, ("咨询", "请问", "询问", "何时", "能否", "是否", "怎么", "如何", "?", "？")))


class ImportProblem(Exception):
    """The file or the options cannot be imported at all (a missing column, an unknown body)."""


@dataclass
class ImportResult:
    imported: int = 0
    replies: int = 0
    skipped_existing: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason → rows
    titles_cut: int = 0
    authors_created: int = 0
    categories_created: int = 0
    campaign_id: int | None = None

    @property
    def skipped_bad(self) -> int:
        return sum(self.skipped.values())


@dataclass
class Row:
    """One message, checked and cleaned, ready to be written."""
    ref: str
    user: str
    title: str
    title_cut: bool
    body: str
    created_at: datetime
    reply: str
    reply_at: datetime | None
    category: str
    message_type: str


def parse_mapping(pairs: Iterable[str]) -> dict[str, str | None]:
    """``field=column`` pairs over the defaults; ``field=`` unmaps an optional field."""
    mapping: dict[str, str | None] = dict(DEFAULT_COLUMNS)
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name = name.strip()
        if not sep or name not in FIELDS:
            raise ImportProblem(f"--map takes field=column with a field among {', '.join(FIELDS)}; got {pair!r}")
        mapping[name] = column.strip() or None
    missing = [name for name in REQUIRED_FIELDS if not mapping.get(name)]
    if missing:
        raise ImportProblem(f"No column mapped for {', '.join(missing)}")
    return mapping


def check_columns(header: list[str], mapping: dict[str, str | None]) -> None:
    """Raise if a mapped column is not in the file's header."""
    absent = [f"{name}={column}" for name, column in mapping.items() if column and column not in header]
    if absent:
        raise ImportProblem(f"Columns not in the file: {', '.join(absent)} (header: {', '.join(header)})")


def read_csv(path: str, encoding: str = "utf-8-sig") -> tuple[list[str], Iterator[dict[str, str]]]:
    """The header and the rows of a CSV file, read lazily."""
    # Python's csv refuses fields over 128 KiB outright; read them so that the length check skips the row.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    handle = open(path, newline="", encoding=encoding)  # noqa: SIM115 - closed when the generator ends
    reader = csv.DictReader(handle)
    header = list(reader.fieldnames or [])

    def rows() -> Iterator[dict[str, str]]:
        with handle:
            yield from reader
    return header, rows()


def count_rows(path: str, encoding: str = "utf-8-sig") -> int:
    """Rows in a CSV file (a first pass for the progress bar; quoted newlines counted right)."""
    with open(path, newline="", encoding=encoding) as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def default_source(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0][:SOURCE_MAX_LENGTH]


def parse_time(value: str, formats: Iterable[str], zone: ZoneInfo) -> datetime | None:
    """A local time in one of ``formats`` as aware UTC, or None."""
    value = " ".join((value or "").split())
    if not value:
        return None
    for fmt in formats:
        try:
            moment = datetime.strptime(value, fmt).replace(tzinfo=zone).astimezone(UTC)
        except (ValueError, OverflowError):
            continue
        # A year outside what any board can have written is a typing error, not history.
        return moment if EARLIEST_YEAR <= moment.year <= utcnow().year + 1 else None
    return None


def guess_message_type(title: str) -> str:
    """The message type a title suggests (its first matching keyword; a complaint when none matches)."""
    title = to_simplified(title)
    for message_type, words in TYPE_KEYWORDS:
        if any(word in title for word in words):
            return message_type
    return MessageType.COMPLAINT


def _text(raw: dict, mapping: dict, name: str, *, multiline: bool = False) -> str:
    column = mapping.get(name)
    # Invisible format characters (bidi overrides, zero-width spaces) are dropped: the site refuses them in
    # every field, and an imported message cannot be sent back to be typed again.
    return remove_format_characters(normalise_input(raw.get(column) if column else "", multiline=multiline))


def prepare_row(raw: dict[str, str], mapping: dict[str, str | None], formats: Iterable[str],
                zone: ZoneInfo) -> Row | str:
    """The cleaned row, or the reason it cannot be imported (a short code)."""
    ref, user = _text(raw, mapping, "ref"), _text(raw, mapping, "user")
    title, body = _text(raw, mapping, "title"), _text(raw, mapping, "body", multiline=True)
    reply = _text(raw, mapping, "reply", multiline=True)
    category, type_value = _text(raw, mapping, "category"), _text(raw, mapping, "type")
    if not ref:
        return "missing_ref"
    if len(ref) > REF_MAX_LENGTH:
        return "ref_too_long"
    if not title:
        return "missing_title"
    if not body:
        return "missing_body"
    if any(has_invalid_characters(v) for v in (ref, user, title, body, reply, category, type_value)):
        return "invalid_characters"
    if len(body) > BODY_MAX_LENGTH:
        return "body_too_long"
    if len(reply) > REPLY_MAX_LENGTH:
        return "reply_too_long"
    if len(category) > CATEGORY_MAX_LENGTH:
        return "category_too_long"
    created_at = parse_time(_text(raw, mapping, "time"), formats, zone)
    if created_at is None:
        return "bad_time"
    reply_at = None
    if reply:
        reply_at = parse_time(_text(raw, mapping, "reply_time"), formats, zone)
        if reply_at is None:
            return "bad_reply_time"
    if type_value:
        message_type = TYPE_NAMES.get(to_simplified(type_value).lower())
        if message_type is None:
            return "unknown_type"
    else:
        message_type = guess_message_type(title)
    title_cut = len(title) > TITLE_MAX_LENGTH
    if title_cut:
        title = title[:TITLE_MAX_LENGTH - 1] + "…"
    return Row(ref=ref, user=user, title=title, title_cut=title_cut, body=body, created_at=created_at,
               reply=reply, reply_at=reply_at, category=category, message_type=str(message_type))


def author_username(source: str, user: str) -> str:
    """The deterministic username of a board user's imported account (no trace of the name itself)."""
    digest = hashlib.sha256(f"{source}\x00{user}".encode()).hexdigest()
    return f"imp_{digest[:24]}"


def history_campaign(body: Body, source: str) -> Campaign:
    """The closed campaign holding a source's messages for ``body`` (found again on a re-run, else created)."""
    title = f"历史留言（{source}）"
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.body_id == body.id, Campaign.title == title)
                                 .order_by(Campaign.id).limit(1))
    if campaign is None:
        campaign = Campaign(body=body, title=title, theme="历史留言",
                            description=f"从“{source}”导入的历史留言及其答复。", region_scope=body.region,
                            opens_at=utcnow(), closes_at=utcnow(), status=CampaignStatus.CLOSED)
        db.session.add(campaign)
        db.session.flush()
        audit.record(None, "campaign.import_create", campaign, body_id=body.id, source=source)
    return campaign


def system_user() -> User:
    """The inactive account that imported replies are written by."""
    user = db.session.scalar(sa.select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        user = User(username=SYSTEM_USERNAME, display_name=SYSTEM_DISPLAY_NAME, password_hash=UNUSABLE_PASSWORD,
                    role=Role.STAFF, active=False)
        db.session.add(user)
        db.session.flush()
    return user


class _Importer:
    def __init__(self, campaign: Campaign, body: Body, source: str, result: ImportResult):
        self.campaign, self.body, self.source, self.result = campaign, body, source, result
        self.replier = system_user()
        self.authors: dict[str, int] = {}
        self.categories: dict[str, Category] = {}
        self.seen: set[str] = set()

    def author_id(self, user: str) -> int:
        username = author_username(self.source, user)
        if username not in self.authors:
            found = db.session.scalar(sa.select(User.id).where(User.username == username))
            if found is None:
                author = User(username=username, display_name=AUTHOR_DISPLAY_NAME, password_hash=UNUSABLE_PASSWORD,
                              role=Role.CITIZEN, active=False)
                db.session.add(author)
                db.session.flush()
                found = author.id
                self.result.authors_created += 1
            self.authors[username] = found
        return self.authors[username]

    def category(self, name: str) -> Category:
        code, name, name_en = UNCATEGORISED if not name else (None, name, "")
        if name not in self.categories:
            category = db.session.scalar(sa.select(Category).where(
                sa.or_(Category.name == name, Category.code == (code or name))).order_by(Category.id).limit(1))
            if category is None:
                code = code or "imp_" + hashlib.sha256(name.encode()).hexdigest()[:12]
                category = Category(code=code, name=name, name_en=name_en)
                db.session.add(category)
                db.session.flush()
                self.result.categories_created += 1
            if category not in self.campaign.categories:
                self.campaign.categories.append(category)
            self.categories[name] = category
        return self.categories[name]

    def write_batch(self, rows: list[Row]) -> None:
        refs = [row.ref for row in rows]
        existing = set(db.session.scalars(sa.select(Suggestion.source_ref).where(
            Suggestion.source == self.source, Suggestion.source_ref.in_(refs))))
        for row in rows:
            if row.ref in existing:
                self.result.skipped_existing += 1
                continue
            replied = row.reply_at is not None
            suggestion = Suggestion(
                campaign_id=self.campaign.id, author_id=self.author_id(row.user),
                category=self.category(row.category), message_type=row.message_type, title=row.title,
                body=row.body, status=Status.REPLIED if replied else Status.PUBLISHED,
                created_at=row.created_at, published_at=row.created_at,
                accepted_at=row.created_at if replied else None, replied_at=row.reply_at,
                handling_body_id=self.body.id if replied else None,
                source=self.source, source_ref=row.ref)
            db.session.add(suggestion)
            if replied:
                db.session.add(Reply(suggestion=suggestion, body_id=self.body.id, author_id=self.replier.id,
                                     decision=Decision.NOT_RECORDED, content=row.reply, created_at=row.reply_at))
                record_first_reply(suggestion, row.reply_at)
                self.result.replies += 1
            self.result.imported += 1
            self.result.titles_cut += row.title_cut
        db.session.flush()


def import_messages(raw_rows: Iterable[dict[str, str]], *, body: Body, source: str,
                    campaign: Campaign | None = None, mapping: dict[str, str | None] | None = None,
                    time_formats: Iterable[str] = DEFAULT_TIME_FORMATS, timezone: str = DEFAULT_TIMEZONE,
                    batch_size: int = 500, commit: Callable[[], None] | None = None,
                    progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import a board's messages and replies as proposals of ``campaign`` (by default the body's closed
    history campaign for ``source``); ``commit`` is called after each batch (the caller's transaction
    boundary), ``progress`` with the rows read since the last call."""
    source = source.strip()[:SOURCE_MAX_LENGTH]
    if not source:
        raise ImportProblem("The source name must not be empty.")
    if campaign is not None and campaign.body_id != body.id:
        raise ImportProblem(f"Campaign {campaign.id} belongs to another body.")
    # (source, message number) is unique site-wide: a source name another body imported under would make this
    # file's rows look "already there".
    other_body = db.session.scalar(
        sa.select(Campaign.body_id).join(Suggestion, Suggestion.campaign_id == Campaign.id)
        .where(Suggestion.source == source, Campaign.body_id != body.id).limit(1))
    if other_body is not None:
        raise ImportProblem(f"Another body (id {other_body}) has imported messages under the source name "
                            f"'{source}'; choose another with --source.")
    mapping = mapping or dict(DEFAULT_COLUMNS)
    formats, zone = tuple(time_formats), ZoneInfo(timezone)
    own_campaign = campaign is None
    campaign = campaign or history_campaign(body, source)
    result = ImportResult(campaign_id=campaign.id)
    importer = _Importer(campaign, body, source, result)
    batch: list[Row] = []
    read = 0

    def flush_batch() -> None:
        nonlocal batch, read
        if batch:
            importer.write_batch(batch)
        if own_campaign:
            _fit_dates(campaign)
        audit.record(None, "campaign.import_messages", campaign, body_id=body.id, source=source, rows=read,
                     imported=result.imported)
        if commit is not None:
            commit()
        if progress is not None:
            progress(read)
        batch, read = [], 0

    for raw in raw_rows:
        read += 1
        row = prepare_row(raw, mapping, formats, zone)
        if isinstance(row, str):
            result.skipped[row] += 1
        elif row.ref in importer.seen:
            result.skipped["duplicate_ref"] += 1
        else:
            importer.seen.add(row.ref)
            batch.append(row)
        if read >= batch_size:
            flush_batch()
    if read:
        flush_batch()
    return result


def _fit_dates(campaign: Campaign) -> None:
    """A history campaign opens with its first message and closes with its last."""
    first, last = db.session.execute(sa.select(sa.func.min(Suggestion.created_at), sa.func.max(Suggestion.created_at))
                                     .where(Suggestion.campaign_id == campaign.id)).one()
    if first is not None:
        campaign.opens_at, campaign.closes_at = first, last
