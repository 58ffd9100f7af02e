"""The few date expressions the rollup needs, for SQLite and PostgreSQL (everything else is portable SQL)."""
import sqlalchemy as sa

from core.extensions import db


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def start_of(period: str, moment):
    """The first day of the Beijing ``period`` ("month" or "year") of a naive-UTC timestamp column, as a date."""
    if _postgres():
        local = sa.func.timezone("Asia/Shanghai", sa.func.timezone("UTC", moment))
        return sa.cast(sa.func.date_trunc(period, local), sa.Date)
    return sa.func.date(moment, "+8 hours", f"start of {period}")


def start_of_year(day):
    """1 January of the year of a date column."""
    if _postgres():
        return sa.cast(sa.func.date_trunc("year", day), sa.Date)
    return sa.func.date(day, "start of year")


def beijing_year(moment):
    """The Beijing year of a naive-UTC timestamp column, as an integer."""
    if _postgres():
        return sa.cast(sa.extract("year", start_of("year", moment)), sa.Integer)
    return sa.cast(sa.func.strftime("%Y", moment, "+8 hours"), sa.Integer)


def first_of_january(year):
    """1 January of an integer year column, as a date."""
    if _postgres():
        return sa.func.make_date(year, 1, 1)
    return sa.func.printf("%04d-01-01", year)
