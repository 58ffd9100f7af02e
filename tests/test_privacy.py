"""Personal data in free text is masked: phone numbers, ID numbers, e-mail addresses."""
import re

import pytest

from core.privacy import mask_personal_data

SEEDED = [("我的电话是13812345678，请联系", "13812345678"), ("手机：+86 139-1234-5678", "1234"),
          ("身份证号110101199003071234已附上", "110101199003071234"), ("身份证 44030419851231002X", "19851231002X"),
          ("邮箱 zhang.san@example.com 欢迎来信", "zhang.san@example.com"), ("座机 0731-84567890", "84567890"),
          ("旧身份证 110101900307123", "900307123"),
          # Found in review: a letter before the number, full-width digits, separators inside the number.
          ("身份证ID110101199003077777", "199003077777"), ("电话１３８１２３４５６７８", "12345678"),
          ("身份证 110101 19900307 7777", "19900307 7777"), ("手机138.1234.5678", "1234.5678"),
          ("我叫王小明，住在城南小区", "王小明"), ("联系人：李娜 电话见上", "李娜")]


@pytest.mark.parametrize("text,secret", SEEDED)
def test_personal_data_is_masked(text, secret):
    masked = mask_personal_data(text)
    assert secret not in masked and "*" in masked
    assert not re.search(r"1[3-9]\d{9}", masked) and not re.search(r"\d{17}[\dXx]", masked)


def test_ordinary_numbers_are_left_alone():
    text = "小区有1200户居民，2026年计划投入300万元，第8路公交车，２号楼，电话号码见附件。我是一名教师，姓王。"
    assert mask_personal_data(text) == text
