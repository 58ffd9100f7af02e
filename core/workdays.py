"""Working days (工作日) on China's calendar: weekends, public holidays and make-up working days (调休).

The calendar comes from chinese-calendar, which carries the State Council's arrangement for each year it
knows. For a year it does not know yet (the arrangement is published each November or December), weekends
and the fixed-date statutory holidays are used (元旦 1 January, 劳动节 1-2 May, 国庆节 1-3 October), and
deadlines in that year may move once the package is updated: `pip install -U chinesecalendar`.
"""
from datetime import date, timedelta

import chinese_calendar

_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def is_working_day(day: date) -> bool:
    """True on a working day: a weekday that is not a public holiday, or a make-up working day."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year chinese-calendar does not cover
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def is_known_year(year: int) -> bool:
    """True if the holiday arrangement of ``year`` is known (not the fallback)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    while days:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if ``end`` is before ``start``)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n)))
