"""Reading a draft into its structure, the way Chinese legal and plan texts are written.

A law or regulation: 编 (part), 分编, 章 (chapter), 节 (section), 条 (article), in Simplified or Traditional
characters (編, 節, 條); an article's paragraphs are its 款,
and the lines "（一）…" within them its 项. A plan outline: 篇, 章, 节 and headings "一、", "（一）" or Markdown
"#" headings, with prose under them. Citizens comment on articles; in a text without articles, on each heading
that has prose under it.

Input is Markdown or plain text (one paragraph per line), or a .docx file (its paragraphs, with Word's heading
styles read as Markdown headings). Nothing here touches the database.
"""
import io
import re
from dataclasses import dataclass, field

from core.text import has_invalid_characters, remove_format_characters

NUMERAL = r"[零〇一二三四五六七八九十百千两兩\d]+"
DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
          "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}

# Structural units above the article, outermost first: (kind, pattern). 篇 is a plan outline's part.
UNITS_ABOVE_ARTICLE = [
    ("part", re.compile(rf"^第({NUMERAL})[编編篇]\s*(.*)$")),
    ("subpart", re.compile(rf"^第({NUMERAL})分[编編]\s*(.*)$")),
    ("chapter", re.compile(rf"^第({NUMERAL})章\s*(.*)$")),
    ("section", re.compile(rf"^第({NUMERAL})[节節]\s*(.*)$")),
]
DEPTH = {"part": 1, "subpart": 2, "chapter": 3, "section": 4}
ARTICLE = re.compile(rf"^第(?P<number>{NUMERAL})[条條](之{NUMERAL})?(?P<space>\s*)(?P<rest>.*)$")
ARTICLE_MENTION = re.compile(rf"第({NUMERAL})[条條]")  # an article named in a comment's text
ARTICLE_TITLE = re.compile(r"^【([^】]{1,30})】")
# A plan outline's lower headings: "一、加快发展现代产业体系" and "（一）提升产业链供应链现代化水平".
OUTLINE_HEADINGS = [(5, re.compile(rf"^({NUMERAL})、\s*(.*)$")),
                    (6, re.compile(rf"^[（(]({NUMERAL})[)）]\s*(.*)$"))]
HEADING_MAX_LENGTH = 40
MAX_NUMBER = 2_147_483_647  # what an integer column holds
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
MARKDOWN_NOISE = re.compile(r"\*\*|__|^>\s*|^[-*+]\s+(?=\S)")
DRAFT_TITLE = re.compile(r"《.+》|（(草案|征求意见稿|送审稿)[^）]*）|纲要|办法|条例|规定")


def chinese_number(text: str) -> int:
    """二十三 → 23, 一百零五 → 105, 十二 → 12, 12 → 12; ValueError for anything else (十2, 甲)."""
    if text.isascii() and text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in DIGITS:
            current = DIGITS[char]
        elif char in UNITS:
            total += (current or 1) * UNITS[char]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text}")
    return total + current


def number_of(text: str) -> int | None:
    """The number a label gives, or None when it gives none a column can hold (十2, 99999999999)."""
    try:
        number = chinese_number(text)
    except ValueError:
        return None
    return number if number <= MAX_NUMBER else None


@dataclass
class Provision:
    """One unit of the draft: a heading (编, 章, 节, an outline heading) or an article with its paragraphs."""
    kind: str  # part, subpart, chapter, section, heading, article, preamble
    depth: int  # 1 (编) … 4 (节), 5-6 an outline's headings, 7 an article
    label: str = ""  # 第十二条, 第一章, 一、
    number: int | None = None
    heading: str = ""  # a chapter's or heading's title
    paragraphs: list[str] = field(default_factory=list)  # an article's 款; a heading's prose
    within: str = ""  # the enclosing units: "第二章 服务内容 / 第一节 作业辅导"

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def commentable(self) -> bool:
        return self.kind == "article" or (self.kind in ("heading", "part", "subpart", "chapter", "section")
                                          and bool(self.paragraphs))

    @property
    def title(self) -> str:
        """How the provision is named in lists: 第十二条, or 第一章 发展环境."""
        return " ".join(part for part in (self.label, self.heading) if part)


@dataclass
class ParsedDraft:
    title: str
    provisions: list[Provision]

    @property
    def articles(self) -> list[Provision]:
        """The units citizens comment on, in order."""
        return [p for p in self.provisions if p.commentable]


class DraftUnreadable(ValueError):
    """The file is not a draft this parser can read. ``reason``: "no_structure" (no articles or headings with text),
    "not_docx", "not_utf8" or "not_text" (control characters: a binary file)."""

    DESCRIPTIONS = {"no_structure": "no articles or headings with text were found",
                    "not_docx": "not a .docx file", "not_utf8": "not UTF-8 text",
                    "not_text": "holds control characters: not a text file"}

    def __init__(self, reason: str):
        super().__init__(self.DESCRIPTIONS[reason])
        self.reason = reason


def _clean(line: str) -> str:
    line = line.replace("\u3000", " ").replace("\xa0", " ").strip()
    return MARKDOWN_NOISE.sub("", line).strip()


def _heading_above_article(line: str) -> tuple[str, re.Match] | None:
    for kind, pattern in UNITS_ABOVE_ARTICLE:
        match = pattern.match(line)
        if match:
            return kind, match
    return None


def _outline_heading(line: str) -> tuple[int, re.Match] | None:
    for depth, pattern in OUTLINE_HEADINGS:
        match = pattern.match(line)
        if match and len(match.group(2)) <= HEADING_MAX_LENGTH and not match.group(2).endswith(("。", "；", "：")):
            return depth, match
    return None


def _article_start(match: re.Match | None, last_article: int | None) -> re.Match | None:
    """``match`` if the line starts an article: its label followed by a space or 【 (第一条　为了……), or the next
    number in order (第一条为了……). A paragraph that opens by citing an article (第三十条规定的期限……, inside
    article 45) is not one."""
    if match is None:
        return None
    if match.group("space") or match.group("rest")[:1] in ("", "【") or last_article is None \
            or number_of(match.group("number")) == last_article + 1:
        return match
    return None


def parse_text(text: str) -> ParsedDraft:
    """The structure of a draft written as Markdown or plain text, one paragraph per line."""
    lines = [(MARKDOWN_HEADING.match(raw.strip()), raw) for raw in text.replace("\r\n", "\n").split("\n")]
    has_articles = any(ARTICLE.match(_clean(m.group(2) if m else raw)) for m, raw in lines)
    title, provisions, current, last_article = "", [], None, None
    enclosing: dict[int, str] = {}  # depth → that unit's title, for ``within``

    def start(provision: Provision) -> Provision:
        for depth in [d for d in enclosing if d >= provision.depth]:
            del enclosing[depth]
        provision.within = " / ".join(enclosing[d] for d in sorted(enclosing))
        if provision.kind != "article":
            enclosing[provision.depth] = provision.title
        provisions.append(provision)
        return provision

    for markdown, raw in lines:
        line = _clean(markdown.group(2) if markdown else raw)
        if not line:
            continue
        above = _heading_above_article(line)
        article = _article_start(ARTICLE.match(line), last_article)
        outline = None if has_articles else _outline_heading(line)
        if above:
            kind, match = above
            current = start(Provision(kind, DEPTH[kind], line[:match.start(2)].strip(),
                                      number_of(match.group(1)), match.group(2).strip()))
        elif article:
            label = line[:article.start("space")]
            current = start(Provision("article", 7, label, number_of(article.group("number"))))
            last_article = current.number
            rest = article.group("rest").strip()
            bracketed = ARTICLE_TITLE.match(rest)  # 第一条【立法目的】为了……
            if bracketed:
                current.heading, rest = bracketed.group(1), rest[bracketed.end():].strip()
            if rest:
                current.paragraphs.append(rest)
        elif outline:
            depth, match = outline
            current = start(Provision("heading", depth, line[:match.start(2)].strip(),
                                      number_of(match.group(1)), match.group(2).strip()))
        elif markdown and not title and not provisions:
            title = line
        elif markdown and len(markdown.group(1)) > 1 and not has_articles:
            current = start(Provision("heading", 4 + len(markdown.group(1)), "", None, line))
        elif current is None:
            if not title and DRAFT_TITLE.search(line) and len(line) <= 80:
                title = line
            else:
                current = start(Provision("preamble", 0))
                current.paragraphs.append(line)
        else:
            current.paragraphs.append(line)
    if not any(p.commentable for p in provisions):
        raise DraftUnreadable("no_structure")
    return ParsedDraft(title=title, provisions=provisions)


def docx_text(data: bytes) -> str:
    """A .docx file's paragraphs as Markdown-like lines: Word's "Heading N" (标题 N) styles become "#" marks."""
    import docx  # python-docx; imported here so that reading Markdown never needs it
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - python-docx raises several kinds for a file that is not a .docx
        raise DraftUnreadable("not_docx") from error
    lines = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = re.search(r"(?:Heading|标题)\s*(\d)", style)
        if style == "Title":
            lines.append(f"# {paragraph.text}")
        elif level:
            lines.append("#" * (int(level.group(1)) + 1) + " " + paragraph.text)
        else:
            lines.append(paragraph.text)
    return "\n".join(lines)


def parse_file(filename: str, data: bytes) -> ParsedDraft:
    """A draft from an uploaded file: .docx, else UTF-8 Markdown or text. Invisible format characters (a bidi
    override could make an article read otherwise than it is) are dropped; control characters refuse the file."""
    if filename.lower().endswith(".docx"):
        text = docx_text(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DraftUnreadable("not_utf8") from error
    if has_invalid_characters(text.replace("\r", "")):
        raise DraftUnreadable("not_text")
    return parse_text(remove_format_characters(text))
