"""Template filters and globals: local times, locale-aware names, the current path."""
from datetime import date, datetime

from flask import request
from flask_babel import format_date, format_datetime, get_locale
from markupsafe import Markup

from core.privacy import mask_personal_data
from core.regions import region_in_english


def localtime(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in the configured local time zone (Asia/Shanghai by default)."""
    return _unbroken(format_datetime(value, fmt)) if value is not None else ""


def localdate(value) -> str:
    """A UTC datetime's local date, or a calendar date (a deadline) as it is."""
    if value is None:
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return _unbroken(format_date(value, "yyyy-MM-dd"))
    return _unbroken(format_datetime(value, "yyyy-MM-dd"))


def _unbroken(text: str) -> Markup:
    """A date kept on one line: a narrow screen would otherwise break it at a hyphen (2026- / 12-11)."""
    return Markup('<span class="date">%s</span>') % text


def display_name(obj) -> str:
    """A body's or category's name in the current language."""
    return obj.display_name(str(get_locale())) if obj is not None else ""


def public(text: str | None, reveal: bool = False, official: bool = False) -> str:
    """Free text as the public sees it (personal data masked: core.privacy), or as written where ``reveal`` (the
    author and the handling bodies' staff on a proposal's page). ``official``: a body's own text (a reply)."""
    return (text or "") if reveal else mask_personal_data(text, official=official)


def region_name(region: str | None) -> str:
    """A region (free text, 江南省临川市青溪县) in the current language: as written in Chinese, in pinyin with the
    levels translated in English (core.regions)."""
    if not region or str(get_locale()).startswith("zh"):
        return region or ""
    return region_in_english(region)


def label(mapping: dict, key) -> str:
    """The translated label of an enum value (status, decision, message type…)."""
    return str(mapping.get(key, key))


def rounded(value: int) -> str:
    """An estimate to two significant figures, with thousands separators: 1,018,327 → "1,000,000"."""
    digits = max(len(str(int(value))) - 2, 0)
    return f"{round(int(value), -digits):,}"


def reject_page(args: dict) -> dict:
    """Query arguments without ``page`` (for pagination links that keep the filters)."""
    return {k: v for k, v in args.items() if k != "page"}


def init_app(app) -> None:
    app.jinja_env.filters.update(localtime=localtime, localdate=localdate, display_name=display_name,
                                 reject_page=reject_page, rounded=rounded, public=public,
                                 region_name=region_name)
    app.jinja_env.globals.update(label=label)

    @app.context_processor
    def _current_path():
        chinese = str(get_locale()).startswith("zh")
        return {"current_path": request.full_path.rstrip("?") if request else "/",
                # Lists in running text: 教育、交通 in Chinese, "Education, Transport" in English.
                "list_sep": "、" if chinese else ", ",
                # A label and its value, and an aside: 采纳：…（9 条意见） in Chinese, "Adopted: … (9 comments)".
                "colon": "：" if chinese else ": ",
                "aside": (lambda text: f"（{text}）") if chinese else (lambda text: f"({text})")}
