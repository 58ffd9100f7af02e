"""Masking personal data in public text: phone numbers, ID card numbers, e-mail addresses, and names where the
text introduces them.

Citizens sometimes write their phone or ID number into a proposal. Public exports and the API pass every text
through ``mask_personal_data``; the site itself shows proposals as written (moderators hide them instead).
"""
import re

# \d also matches full-width digits (１３８…); the literal digits below accept both forms. Digits may be split by
# a space, dot or dash.
_SEP = r"[-\s.]?"
# 18-digit resident ID numbers (the last character may be X), and the old 15-digit ones: the region code stays.
_ID_18 = re.compile(rf"(?<!\d)(\d{{6}}){_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx](?![0-9A-Za-z])")
_ID_15 = re.compile(r"(?<!\d)(\d{6})\d{9}(?!\d)")
# Mainland mobile numbers (with an optional +86 / 86 prefix and separators) and landlines with an area code.
_MOBILE = re.compile(rf"(?<!\d)(?:\+?86{_SEP})?([1１][3-9３-９]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)")
_LANDLINE = re.compile(rf"(?<!\d)([0０]\d{{2,3}}){_SEP}(\d{{7,8}})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# A real name can only be told by the words that introduce it: "我叫…", "姓名：…", "联系人：…". Only these forms
# are masked (the surname stays); a name elsewhere in the text is not recognised.
_NAME = re.compile(r"(我叫|我的名字是|本人姓名[:：]?|姓名[:：]?|联系人[:：]?)\s*"
                   r"([\u4e00-\u9fff])([\u4e00-\u9fff]{1,3})")


def mask_personal_data(text: str) -> str:
    """``text`` with ID numbers, phone numbers, e-mail addresses and introduced names masked (the shape stays
    readable)."""
    if not text:
        return text or ""
    text = _EMAIL.sub("***@***", text)
    text = _NAME.sub(lambda m: m.group(1) + m.group(2) + "*" * len(m.group(3)), text)
    text = _ID_18.sub(lambda m: m.group(1) + "*" * 12, text)
    text = _ID_15.sub(lambda m: m.group(1) + "*" * 9, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)
