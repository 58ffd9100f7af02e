"""Personal data in free text: found, masked for the public, or moved into a proposal's private contact section.

Citizens write their phone number, ID number or address into a proposal because the body needs to call them
back. The text is stored as written; everything shown to someone other than the author and the handling bodies'
staff, and everything indexed, passes through the one masking function, ``mask_personal_data`` (pages, lists,
search index and snippets, typing hints, clusters and their keywords, the API, open data, notifications and
e-mail). ``find_personal_data`` says what it would mask and where (the submit form's warning, the move into the
private section, ``python -m bench.privacy``).

What is recognised (one test per form in tests/test_privacy.py):

- mobile: mainland mobile numbers, with +86 / 0086, spaces, dashes or dots between the digits (1380 013 8002,
  139-001-38003, 139 . 0013 . 8005), in full-width digits, or in Chinese numerals (一三八…);
- landline: an area code and a local number ((0571)88888882, 0571 8888 8883), and a bare local number right
  after 电话, 座机, 固话, 致电, 拨打 or Tel (电话88888884). Phone numbers are found and validated with
  ``phonenumbers`` (Google's libphonenumber metadata): 0731-12315 or 0000-00000000 are not numbers. A
  landline introduced in its clause by an organisation or an invitation to call it (咨询电话, 服务热线,
  市城管局电话, 请拨打…) is an office line and stays, and so does every landline of a body's own text
  (``official=True``: its replies); toll-free and short numbers (400…, 12345) stay too;
- id_number: 18-digit resident ID numbers (last character X) and the old 15-digit ones with a plausible birth
  date, whole or grouped (1101 0119 9003 0712 34); the region code stays;
- bank_card: any other run of 16 to 19 digits, whole or in groups of four;
- email: name@domain, also with a full-width ＠ or written zhangwei(at)163.com, [at], (dot);
- wechat, qq: the account after 微信(号), wx, vx, V信, WeChat / QQ(号), 扣扣;
- plate: vehicle plates (浙A12345, 浙A·D6789, new-energy plates of six characters);
- address: the building, unit and room of a home (锦绣路88号3栋2单元501室 → 锦绣路88号*栋*单元***室): the street
  and its number stay, as they often say where the problem is;
- name: a name the text introduces (我叫, 我是, 本人, 姓名：, 联系人：, 举报人：…) or names before 反映: the
  surname stays (张伟 → 张*). A name is only told by these words, a list of common surnames and jieba's
  dictionary (a common word such as 方面 or 周围 is not a name); a name written anywhere else is not found.

Dates, amounts, years, percentages, article, road and document numbers are left alone: masking needs a
whole number of the right length (or the words above) and never a number followed by a unit (元, 万, %, 个…).
``python -m bench.privacy FILE`` counts what is masked in real messages.
"""
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from flask_babel import lazy_gettext as _l

# Bump when the rules change: search indexes built with another version are rebuilt (search.backend).
MASKING_VERSION = 2

KIND_LABELS = {
    "mobile": _l("Mobile phone number"), "landline": _l("Telephone number"), "id_number": _l("ID card number"),
    "bank_card": _l("Bank card number"), "email": _l("E-mail address"), "wechat": _l("WeChat account"),
    "qq": _l("QQ number"), "plate": _l("Licence plate"), "address": _l("Home address (building, unit, room)"),
    "name": _l("Full name"),
}
KINDS = tuple(KIND_LABELS)


@dataclass(frozen=True)
class Finding:
    """One piece of personal data in a text: ``text[start:end]`` is shown as ``replacement``; the detail itself,
    as it would go into the private section, is ``text[value_start:end]`` (a name with its surname, an address with
    its street)."""
    kind: str
    start: int
    end: int
    replacement: str
    value_start: int

    def value(self, text: str) -> str:
        return text[self.value_start:self.end].strip()


def _stars(value: str) -> str:
    """Every letter and digit of ``value`` as *, other characters kept (3栋2单元 → *栋*单元)."""
    return "".join("*" if ch.isalnum() and not _is_cjk(ch) else ch for ch in value)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _digits(value: str) -> str:
    """The ASCII digits of ``value`` (full-width and other decimal digits converted)."""
    return "".join(str(unicodedata.digit(ch)) for ch in value if ch.isdecimal())


# --- numbers: ID cards and bank cards --------------------------------------------------------------------------

# A run of digits, whole or in groups split by one kind of separator (spaces, or a dash or dot with optional
# spaces around it), never inside a longer number or a decimal; an ID number may end in X.
_SEPARATOR = r"[ \t\u3000\xa0]*[-‐‑–—－.．·][ \t\u3000\xa0]*|[ \t\u3000\xa0]+"
_RUN = re.compile(rf"(?<!\d)(?<!\d[.,])\d+(?:(?P<sep>{_SEPARATOR})\d+(?:(?P=sep)\d+)*)?(?:[ \t]?[XxＸｘ])?"
                  r"(?![\dA-Za-z])(?![.,]\d)")
# What follows an amount or a count rather than a personal number.
_UNIT_AFTER = re.compile(r"\s*(?:[元块万亿千百%％‰个人户次件辆台吨斤米]|美元|平方|公里)")


def _plausible_birth_date(digits: str, year_digits: int) -> bool:
    year, month, day = digits[:year_digits], digits[year_digits:year_digits + 2], digits[year_digits + 2:]
    if year_digits == 4 and not ("1900" <= year <= "2099"):
        return False
    return "01" <= month <= "12" and "01" <= day[:2] <= "31"


_LONG_RUN = re.compile(r"\d(?:[-‐‑–—－.．·\s]{0,3}\d){14,}")


def _grouped_like_a_card(raw: str) -> bool:
    """Whole, or in groups of four (the last may be shorter): not a code such as 1003788-6200-383653."""
    groups = re.findall(r"\d+", raw)
    return len(groups) == 1 or all(len(g) == 4 for g in groups[:-1])


def _number_runs(text: str, official: bool):
    if not _LONG_RUN.search(text):
        return
    for match in _RUN.finditer(text):
        if _UNIT_AFTER.match(text, match.end()):
            continue
        raw = match.group()
        digits = _digits(raw)
        ends_in_x = raw[-1] in "XxＸｘ"
        n = len(digits)
        if n + ends_in_x == 18 and digits[0] != "0" and (ends_in_x or _plausible_birth_date(digits[6:14], 4)):
            yield Finding("id_number", match.start(), match.end(), digits[:6] + "*" * 12, match.start())
        elif n == 15 and not ends_in_x and digits[0] != "0" and _plausible_birth_date(digits[6:12], 2):
            yield Finding("id_number", match.start(), match.end(), digits[:6] + "*" * 9, match.start())
        elif 16 <= n <= 19 and not ends_in_x and digits[0] != "0" and _grouped_like_a_card(raw):
            yield Finding("bank_card", match.start(), match.end(), digits[:4] + "*" * (n - 8) + digits[-4:],
                          match.start())


# --- phone numbers ---------------------------------------------------------------------------------------------

_PERSONAL_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                   phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE, phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
                   phonenumbers.PhoneNumberType.VOIP}
# A landline introduced, in its clause, by an organisation or by an invitation to call it (咨询电话, 服务热线,
# 市城管局电话, 请拨打…) is an office line and stays; "我" (but not 我局, 我办…), 本人, 家 or 手机 make it personal.
_OFFICE_LINE = re.compile(r"咨询|热线|服务|举报电话|投诉电话|值班|监督|办公|客服|受理|窗口|中心|街道|社区|政府|"
                          r"公司|学校|医院|大厅|拨打|致电|来电|[局办委厅处科股所站队院部]")
_PERSONAL_LINE = re.compile(r"我(?![局办委厅处科股所站队院部县市区镇乡街们中])|本人|家|手机|联系人")
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")
_PHONE_WORD = r"(?:电话|座机|固话|手机|致电|拨打|联系方式|[Tt][Ee][Ll])"
_LOCAL_NUMBER = re.compile(rf"{_PHONE_WORD}(?:号码?)?\s*(?:是|为)?\s*[:：]?\s*(?P<v>[2-9２-９]\d{{6,7}})(?!\d)")
_CN_DIGIT = "零〇一二三四五六七八九幺两"
_CHINESE_MOBILE = re.compile(rf"(?<![{_CN_DIGIT}])[一幺][三四五六七八九][{_CN_DIGIT}]{{9}}(?![{_CN_DIGIT}])")


def _office_line(text: str, start: int) -> bool:
    """True if the number at ``start`` is introduced, in its clause, as an office line (咨询电话, 热线…)."""
    clause = _CLAUSE_END.split(text[max(0, start - 20):start])[-1]
    return bool(_OFFICE_LINE.search(clause)) and not _PERSONAL_LINE.search(clause)


# Seven digits or more, possibly split by separators: only there is the (slower) phone number matcher run.
_PHONE_LIKE = re.compile(r"[+＋(（]?\d(?:[-\s.．()（）—－‐]{0,3}\d){6,}")


def _phone_numbers(text: str, official: bool):
    for window in _PHONE_LIKE.finditer(text):
        offset = max(0, window.start() - 4)
        for match in phonenumbers.PhoneNumberMatcher(text[offset:window.end() + 2], "CN",
                                                      leniency=phonenumbers.Leniency.VALID):
            start, end = offset + match.start, offset + match.end
            raw = match.raw_string
            if raw[0] in "(（" and not any(ch in raw for ch in ")）"):  # a number in brackets, not an area code's
                start += 1
            number, number_type = match.number, phonenumbers.number_type(match.number)
            if number_type not in _PERSONAL_TYPES or _UNIT_AFTER.match(text, end):
                continue
            national = str(number.national_number)
            if number_type == phonenumbers.PhoneNumberType.MOBILE and number.country_code == 86:
                yield Finding("mobile", start, end, f"{national[:3]}****{national[-4:]}", start)
                continue
            # A mainland landline is written with its area code's 0 (2007-000996 is a certificate number).
            written_as_landline = number.country_code != 86 or _digits(raw).startswith("0") or "86" in raw[:4]
            if official or not written_as_landline or _office_line(text, start):
                continue
            area = phonenumbers.length_of_geographical_area_code(number)
            prefix = ("0" + national[:area]) if number.country_code == 86 and area else f"+{number.country_code}"
            yield Finding("landline", start, end, f"{prefix}-****{national[-2:]}", start)
    if not official:
        for match in _LOCAL_NUMBER.finditer(text):
            if not _UNIT_AFTER.match(text, match.end()) and not _office_line(text, match.start()):
                value = match.group("v")
                yield Finding("landline", match.start("v"), match.end("v"), "****" + value[-2:], match.start("v"))
    for match in _CHINESE_MOBILE.finditer(text):
        value = match.group()
        yield Finding("mobile", match.start(), match.end(), f"{value[:3]}****{value[-4:]}", match.start())


# --- e-mail, accounts, plates ----------------------------------------------------------------------------------

_AT = r"(?:\s*[@＠]\s*|\s*[(（\[【{]\s*(?:at|AT|艾特)\s*[)）\]】}]\s*)"
_DOT = r"(?:[.．]|。(?=[A-Za-z])|\s*[(（\[【{]\s*(?:dot|DOT|点)\s*[)）\]】}]\s*)"
_EMAIL = re.compile(rf"[A-Za-z0-9._%+\-]+{_AT}[A-Za-z0-9\-]+(?:{_DOT}[A-Za-z0-9\-]+)*{_DOT}[A-Za-z]{{2,}}")
_ACCOUNT_LEAD = r"\s*(?:号码?|账号|帐号|ID|id)?\s*(?:是|为)?\s*[:：]?\s*"
_WECHAT = re.compile(r"(?<![A-Za-z])(?:微信|[Ww][Xx]|[Vv][Xx]|[Vv]信|[Ww]ei[Xx]in|[Ww]e[Cc]hat)"
                     rf"{_ACCOUNT_LEAD}(?P<v>[A-Za-z][-_A-Za-z0-9]{{5,19}})(?![-_A-Za-z0-9@＠])")
_QQ = re.compile(rf"(?<![A-Za-z])(?:[Qq]{{2}}|扣扣)(?:群)?{_ACCOUNT_LEAD}(?P<v>[1-9]\d{{4,11}})(?!\d)")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"(?P<v>[{_PROVINCES}][A-Za-z])\s?[·•・.\-]?\s?(?P<rest>[A-HJ-NP-Za-hj-np-z0-9]{{5,6}}|"
                    r"[A-HJ-NP-Za-hj-np-z0-9]{4}[学警挂港澳领使])(?![A-Za-z0-9])")


_ACCOUNT_HINTS = ("@", "＠", "at", "艾特", "微信", "wx", "vx", "v信", "weixin", "wechat", "qq", "扣扣")


def _accounts(text: str, official: bool):
    lower = text.lower()
    if any(hint in lower for hint in _ACCOUNT_HINTS):
        for match in _EMAIL.finditer(text):
            yield Finding("email", match.start(), match.end(), "***@***", match.start())
        for kind, pattern in (("wechat", _WECHAT), ("qq", _QQ)):
            for match in pattern.finditer(text):
                yield Finding(kind, match.start("v"), match.end("v"), "***", match.start("v"))
    for match in _PLATE.finditer(text):
        if sum(ch.isdigit() for ch in match.group("rest")) >= 2:
            yield Finding("plate", match.end("v"), match.end(), _stars(text[match.end("v"):match.end()]),
                          match.start())


# --- home addresses --------------------------------------------------------------------------------------------

_N = r"[0-9０-９]"
_CN_NUM = "一二三四五六七八九十"
_BUILDING = rf"(?:[0-9０-９A-Za-z{_CN_NUM}]{{1,4}}\s*(?:栋|幢|号楼|座))"
_UNIT = rf"(?:[0-9０-９{_CN_NUM}]{{1,3}}\s*单元)"
_ROOM_WORD = r"(?:室|号房|房间|房)"
_ADDRESS = re.compile(
    rf"(?:{_BUILDING}\s*{_UNIT}?\s*{_N}{{2,5}}\s*{_ROOM_WORD}?"      # 3栋2单元501室, 5号楼1201, 3栋501室
    rf"|{_UNIT}\s*{_N}{{2,5}}\s*{_ROOM_WORD}?"                        # 2单元501
    rf"|(?<=号)\s*{_N}{{3,5}}\s*室"                                    # 88号501室
    rf"|(?<=[号区苑园庭府城舍])\s*{_N}{{1,3}}-{_N}{{1,2}}-{_N}{{3,4}})"  # 小区3-2-501
    # not a list of buildings or floors (8栋15栋, 25栋17层, B座48楼, 1栋31+1), a count (68栋5000余户) or an area
    rf"(?![0-9０-９])(?![.．][0-9])(?!\s*(?:[栋幢楼层座余多个户+＋平㎡]|号楼|[mM]2|[mM]²))")
# The street part before it, moved along with it into the private section (not masked).
_STREET = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,14}?(?:路|街|大道|巷|弄|胡同|村|组|小区|花园|家园|新村|社区|苑|园|庭|"
                     r"府|城|公寓|大厦)\s*(?:[0-9０-９]{1,5}\s*号(?:院)?)?\s*$")


_ADDRESS_HINTS = ("栋", "幢", "号楼", "座", "单元", "室", "-")


_ADDRESS_LEAD = re.compile(r"(?:家住|现住|住在|住址|地址|位于|住)[:：]?\s*")
# Within the street part (我家就住在学府路…): only words that cannot be part of a street's own name (居住小区).
_ADDRESS_LEAD_WITHIN = re.compile(r"(?:家住|现住|住在|住址|地址|位于|家在)[:：]?\s*")


def _addresses(text: str, official: bool):
    if not any(hint in text for hint in _ADDRESS_HINTS):
        return
    for match in _ADDRESS.finditer(text):
        if _UNIT_AFTER.match(text, match.end()) and not match.group().endswith(("室", "房")):
            continue
        street = _STREET.search(text, max(0, match.start() - 24), match.start())
        value_start = match.start()
        if street:  # the street starts after the words that lead to it (我家就住在学府路… → 学府路…)
            lead = (_ADDRESS_LEAD.match(text, street.start())
                    or _ADDRESS_LEAD_WITHIN.search(text, street.start(), match.start()))
            value_start = lead.end() if lead else street.start()
        yield Finding("address", match.start(), match.end(), _stars(match.group()), value_start)


# --- names -----------------------------------------------------------------------------------------------------

# Common surnames (a surname that is also an everyday word, such as 和, 时 or 明, is left out: too many false hits).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤温康施牛樊葛邢"
    "齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛"
    "靳柴蒙鲍华喻祁蒲滕屈饶解牟艾尤穆农卓吉缪芦麦褚娄窦戚岑冷晏瞿桂佟臧闵苟邬卞姬仇栾隋刁巫寇郎甄丛虞敖巩佘邝"
    "匡鞠郁胥栗鄢谌奚冼蔺厉仝郜阚帅屠朴")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
                      "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "万俟", "澹台")
_SURNAME = rf"(?:{'|'.join(_COMPOUND_SURNAMES)}|[{_SURNAMES}])"
# Characters that do not stand in a given name where these words introduce one (prepositions, pronouns, verbs
# that follow 本人 or 我是: 本人于…, 本人曾在…, 本人向您…).
_NOT_GIVEN = set("您你我他她们它其该此这那于在向对从把被将已曾经要想来去到过了的是和与及或等都也又还再就才只不没"
                 "无有为因所以而且并但时间人户位面客某女士氏老师傅家"
                 "局处科所办院站队厅委部镇乡村县市省司")  # and the ends of an organisation's or a place's name
# After a surname, a title rather than a given name (张主任, 陈先生): nothing to mask.
_TITLES = ("先生", "女士", "小姐", "老师", "师傅", "主任", "局长", "科长", "处长", "所长", "队长", "书记", "经理",
           "同志", "警官", "阿姨", "大爷", "大妈", "老板", "总", "工", "某")
# Where a colon or 我叫 introduces the name, only these particles end it early (我叫黄盼是… → 黄盼).
_PARTICLES = set("是的在于和与及了也都就，")
_HAN = r"[\u4e00-\u9fff]"
# Introduced by 我叫, or by 姓名 / 联系人 / 举报人… (with a colon, or else only a name that is not a word).
_NAMED = re.compile(rf"(?:(?P<says>我叫|我的名字(?:是|叫))|(?:本人|真实)?姓名\s*(?:是|为)?|"
                    rf"(?:联系人|举报人|投诉人|反映人|留言人|来信人|信访人|申请人|报\s*人))"
                    rf"\s*(?P<colon>[:：]?)\s*(?P<s>{_SURNAME})(?P<g>{_HAN}{{1,2}})")
# Introduced by 我是 or 本人: only where the name ends at a pause or a telling word.
_NAME_END = (r"(?=[\s，,。.、；;：:！!？?（()）“”\"'《》]|$|电话|手机|联系|家住|住在|现住|现年|男|女|今年|年龄|"
             r"身份证|系|是|在|于|的|反映|实名|同志)")
_INTRODUCED = re.compile(rf"(?:我是|本人(?:是)?)\s*(?P<s>{_SURNAME})(?P<g>{_HAN}{{1,2}}?){_NAME_END}")
# Followed by 反映 (…黄尊富反映): 于 and 向 before 反映 are prepositions (关于网帖反映, 向政府反映).
_REPORTS = re.compile(rf"(?![于向])(?P<s>{_SURNAME})(?P<g>{_HAN}{{1,2}})(?=反映)")


@lru_cache(maxsize=4096)
def _ordinary_word(word: str, at_least: int = 100) -> bool:
    """True if jieba's dictionary knows ``word`` as a common word (方面, 单位, 周围: frequency 100 or more), or as
    any word with ``at_least=1`` (碧桂园): not a name."""
    from core.chinese import load_jieba

    return (load_jieba().dt.FREQ.get(word) or 0) >= at_least


_NAMED_HINTS = ("我叫", "我的名字", "姓名", "人")


def _names(text: str, official: bool):
    for match in _NAMED.finditer(text) if any(hint in text for hint in _NAMED_HINTS) else ():
        surname, given = match.group("s"), match.group("g")
        if match.group("colon") or match.group("says"):
            if len(given) == 2 and given[1] in _PARTICLES:
                given = given[0]
        elif set(given) & _NOT_GIVEN or surname in "于向" or _ordinary_word(surname + given[0]) or (
                _ordinary_word(surname + given)):
            continue
        if not given.startswith(_TITLES):
            yield _name(match, given)
    for match in _INTRODUCED.finditer(text) if "我是" in text or "本人" in text else ():
        given = match.group("g")
        if not (set(given) & _NOT_GIVEN or given.startswith(_TITLES) or _ordinary_word(match.group("s") + given[0])):
            yield _name(match, given)
    for match in _REPORTS.finditer(text) if "反映" in text else ():
        surname, given = match.group("s"), match.group("g")
        before = text[max(0, match.start() - 1):match.start()]  # the end of a longer word? (碧桂园反映)
        if not (set(given) & _NOT_GIVEN or given.startswith(_TITLES) or _ordinary_word(surname + given[0])
                or (len(given) == 2 and _ordinary_word(given)) or _ordinary_word(surname + given)
                or (before and _ordinary_word(before + surname + given, at_least=1))):
            yield _name(match, given)


def _name(match: re.Match, given: str) -> Finding:
    """The given name masked, the surname kept (and moved along with it)."""
    start = match.end("s")
    return Finding("name", start, start + len(given), "*" * len(given), match.start("s"))


# --- the one masking function ----------------------------------------------------------------------------------

# Earlier detectors win where two findings overlap (an e-mail address holds digits, an ID number a phone-like run).
_DETECTORS = (_accounts, _number_runs, _phone_numbers, _addresses, _names)


def find_personal_data(text: str, *, official: bool = False) -> list[Finding]:
    """The personal data in ``text``, in order, without overlaps. ``official``: the text is a body's own (an
    official reply), whose landlines are its office lines and stay."""
    if not text:
        return []
    taken: list[Finding] = []
    for detector in _DETECTORS:
        for found in detector(text, official):
            if not any(found.start < other.end and other.start < found.end for other in taken):
                taken.append(found)
    return sorted(taken, key=lambda found: found.start)


def mask_personal_data(text: str | None, *, official: bool = False) -> str:
    """``text`` as the public sees it: phone, ID and bank card numbers, e-mail addresses, WeChat and QQ accounts,
    licence plates, home addresses' building, unit and room, and introduced names masked; the shape stays
    readable (138****5678, 110101************, 张*). ``official=True`` for a body's own text (its replies):
    landlines there are its office lines and stay; everything else is masked as in any text."""
    if not text:
        return text or ""
    parts, cursor = [], 0
    for found in find_personal_data(text, official=official):
        parts += [text[cursor:found.start], found.replacement]
        cursor = found.end
    parts.append(text[cursor:])
    return "".join(parts)
