"""A region as English readers see it: 江南省临川市青溪县 → "Qingxi County, Linchuan City, Jiangnan Province".

Regions are free text today (a body's region, a campaign's scope), written from the top level down with the
administrative suffixes of Chinese place names. For English pages each level is spelled in pinyin (pypinyin's
dictionary, which knows the readings of common place names) with the suffix translated, smallest level first, as
English addresses are written. A region without a known suffix is spelled as it is. Official English names per
division belong with the regions data of issue 16 (local editions); until then this is a transliteration.
"""
import re
from functools import lru_cache

# Longer suffixes first, so that 自治区 is not read as 区.
_SUFFIXES = {"特别行政区": "Special Administrative Region", "自治区": "Autonomous Region",
             "自治州": "Autonomous Prefecture", "自治县": "Autonomous County", "自治旗": "Autonomous Banner",
             "街道": "Subdistrict", "地区": "Prefecture", "新区": "New Area", "省": "Province", "市": "City",
             "盟": "League", "区": "District", "县": "County", "旗": "Banner", "镇": "Town", "乡": "Township",
             "村": "Village"}
_LEVEL = re.compile(r"(.+?)(" + "|".join(sorted(_SUFFIXES, key=len, reverse=True)) + ")")


@lru_cache(maxsize=4096)
def region_in_english(region: str) -> str:
    """``region`` (written top level first, e.g. 江南省临川市青溪县) in English, smallest level first."""
    region = (region or "").strip()
    levels, position = [], 0
    for match in _LEVEL.finditer(region):
        if match.start() != position:
            break
        levels.append(f"{_spelled(match.group(1))} {_SUFFIXES[match.group(2)]}")
        position = match.end()
    if position < len(region):  # an unknown ending: spelled as written
        levels.append(_spelled(region[position:]))
    return ", ".join(reversed(levels))


def _spelled(name: str) -> str:
    from pypinyin import lazy_pinyin  # its dictionary takes 0.25 s to load: not at every process's start-up

    return "".join(lazy_pinyin(name)).capitalize()


def spell(name: str) -> str:
    """A name in lower-case pinyin, whole and by initials, for matching what staff type: 长沙市教育局 →
    "changshashijiaoyuju cssjyj". Letters and digits in the name are kept as they are."""
    from pypinyin import Style, lazy_pinyin

    whole = "".join(lazy_pinyin(name)).lower()
    initials = "".join(s[0] for s in lazy_pinyin(name, style=Style.FIRST_LETTER) if s).lower()
    return f"{whole} {initials}"
