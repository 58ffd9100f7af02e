"""Personal data in free text is found and masked (core.privacy): one test per form a citizen writes, and the
ordinary numbers that must stay as written."""
import re

import pytest

from core.privacy import find_personal_data, mask_personal_data

# (text, what must not remain, what the public sees instead, kind)
FORMS = [
    # mobiles: plain, +86, separators anywhere, full-width digits, Chinese numerals
    ("联系电话13812345678，谢谢", "13812345678", "138****5678", "mobile"),
    ("手机：+86 139-1234-5678", "1234-5678", "139****5678", "mobile"),
    ("请打1380 013 8002找我", "013 8002", "138****8002", "mobile"),
    ("电话139-001-38003", "001-38003", "139****8003", "mobile"),
    ("手机139 . 0013 . 8005", "0013 . 8005", "139****8005", "mobile"),
    ("手机138.1234.5678", "1234.5678", "138****5678", "mobile"),
    ("电话１３８１２３４５６７８", "１２３４", "138****5678", "mobile"),
    ("我的手机一三八一二三四五六七八", "一二三四五", "一三八****五六七八", "mobile"),
    # landlines: area code in brackets, spaced, dashed; a bare local number after 电话
    ("座机(0571)88888882", "88888882", "0571-****82", "landline"),
    ("家里电话0571 8888 8883", "8888 8883", "0571-****83", "landline"),
    ("座机 0731-84567890", "84567890", "0731-****90", "landline"),
    ("电话88888884", "88888884", "****84", "landline"),
    # ID numbers: whole, ending in X, grouped by four, split, after a letter, old 15-digit ones
    ("身份证110101199003071234", "199003071234", "110101************", "id_number"),
    ("q=33010219900101123X", "19900101123X", "330102************", "id_number"),
    ("身份证号1101 0119 9003 0712 34", "0119 9003", "110101************", "id_number"),
    ("身份证 110101 19900307 7777", "19900307", "110101************", "id_number"),
    ("身份证ID110101199003077777", "199003077777", "110101************", "id_number"),
    ("旧身份证 110101900307123", "900307123", "110101*********", "id_number"),
    # bank cards: 16 to 19 digits, spaced or not
    ("卡号6222021234567890123", "6222021234567890123", "6222***********0123", "bank_card"),
    ("工资卡 6228 4800 1234 5678 910", "4800 1234", "6228***********8910", "bank_card"),
    ("银行卡6217000010012345", "6217000010012345", "6217********2345", "bank_card"),
    # home address: the building, unit and room go; the street stays
    ("我住锦绣路88号3栋2单元501室", "3栋2单元501室", "锦绣路88号*栋*单元***室", "address"),
    ("家住幸福小区5号楼1201", "5号楼1201", "幸福小区*号楼****", "address"),
    ("住在城南花园3-2-501", "3-2-501", "城南花园*-*-***", "address"),
    # licence plates
    ("车牌浙A12345停在消防通道", "A12345", "浙A*****", "plate"),
    ("浙A·D6789长期占道", "D6789", "浙A·*****", "plate"),
    ("新能源车粤B12345D", "12345D", "粤B******", "plate"),
    # names: after 我叫, 我是, 本人, 姓名：, 联系人：, 举报人：, and before 反映
    ("我是张伟，住在城南", "张伟", "我是张*", "name"),
    ("本人李明华，男，今年45岁", "李明华", "本人李**", "name"),
    ("市民王建反映，路灯坏了", "王建", "王*反映", "name"),
    ("我叫王小明，住在城南小区", "王小明", "我叫王**", "name"),
    ("联系人：李娜 电话见上", "李娜", "联系人：李*", "name"),
    ("举报人：赵国庆", "赵国庆", "举报人：赵**", "name"),
    # WeChat and QQ accounts
    ("微信号 zhangwei_1990，加我", "zhangwei_1990", "微信号 ***", "wechat"),
    ("wx：zhang-wei88", "zhang-wei88", "wx：***", "wechat"),
    ("有事加V信 Lisi2020", "Lisi2020", "V信 ***", "wechat"),
    ("QQ 123456789", "123456789", "QQ ***", "qq"),
    ("扣扣号：987654321", "987654321", "扣扣号：***", "qq"),
    # e-mail: ordinary, (at), full-width ＠, [at] and (dot)
    ("邮箱 zhang.san@example.com 欢迎来信", "zhang.san", "***@***", "email"),
    ("邮箱zhangwei(at)163.com", "zhangwei", "***@***", "email"),
    ("邮箱lisi＠qq.com", "lisi", "***@***", "email"),
    ("wang [at] 126 [dot] com", "wang", "***@***", "email"),
]


@pytest.mark.parametrize("text,secret,shown,kind", FORMS, ids=[f"{k}:{t[:12]}" for t, _, _, k in FORMS])
def test_each_form_is_masked(text, secret, shown, kind):
    masked = mask_personal_data(text)
    assert secret not in masked
    assert shown in masked, masked
    assert kind in {f.kind for f in find_personal_data(text)}


def test_no_full_number_survives_masking():
    text = " ".join(t for t, _, _, _ in FORMS)
    masked = mask_personal_data(text)
    assert not re.search(r"1[3-9]\d{9}", masked) and not re.search(r"\d{15,}", masked)
    assert "@" not in masked.replace("***@***", "")


ORDINARY = [
    "2024年3月5日上午，小区有1200户居民。", "2026年计划投入300万元，增长12.5%。", "¥12,000元的补贴", "依据第十二条和第8条",
    "G318国道和S203省道", "2019-10-03日12点多", "2018.1.9号通过", "面积15285.5平方米", "第8路公交车，２号楼",
    "我是一名教师，姓王。", "我是城南小区的业主", "本人于2017年购房", "本人曾在去年反映过", "本人向您反映一个问题",
    "群众多次向社区反映", "有关方面反映强烈", "周围人反映噪音大", "陈先生反映", "ISBN 978-7-80552-263-0",
    "拨打12345市长热线", "投诉电话0731-12315", "全市共投入13000000000元", "楼盘9栋10栋11栋16栋", "小区共计68栋5000余户",
    "3室2厅的户型", "青交发〔2026〕3号文件", "土地使用权证号2007-000996号", "GB51039-2014规范",
    "电梯设备编码为：1003788-6200-383653", "其中13栋37栋97.5平米", "1栋31+1的方案", "3栋105m2户型", "县委大院3楼321室",
    "跟碧桂园反映", "申请人向市司法局提出申请",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_and_words_stay(text):
    assert mask_personal_data(text) == text


def test_an_office_line_stays_and_official_replies_keep_their_landlines():
    assert mask_personal_data("如有疑问请拨打咨询电话0734-7399892") == "如有疑问请拨打咨询电话0734-7399892"
    assert mask_personal_data("市城管局电话0738-8211119") == "市城管局电话0738-8211119"
    assert "84567890" not in mask_personal_data("我的电话0731-84567890")  # a citizen's own landline
    reply = "已联系您本人（13812345678）。联系电话：0746-5871032。"
    assert mask_personal_data(reply, official=True) == "已联系您本人（138****5678）。联系电话：0746-5871032。"


def test_findings_carry_the_detail_to_move():
    text = "我是张伟，住锦绣路88号3栋2单元501室，电话13812345678"
    found = {f.kind: f.value(text) for f in find_personal_data(text)}
    assert found == {"name": "张伟", "address": "锦绣路88号3栋2单元501室", "mobile": "13812345678"}
    # The address moves without the words that lead to it, never with a street's own name cut.
    for text, address in (("我家就住在学府路18号3单元502室", "学府路18号3单元502室"),
                          ("我家在学府路18号3单元502室", "学府路18号3单元502室"),
                          ("家住幸福住宅小区3栋2单元501室", "幸福住宅小区3栋2单元501室"),
                          ("幸福居住小区3栋2单元501室", "幸福居住小区3栋2单元501室")):
        assert [f.value(text) for f in find_personal_data(text)] == [address], text


def test_empty_text():
    assert mask_personal_data("") == "" and mask_personal_data(None) == ""
    assert find_personal_data("") == []
