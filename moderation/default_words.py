"""The small default sensitive-word list that ``flask moderation seed-words`` puts into an empty list.

Chosen so that ordinary proposals and complaints rarely match: insults rather than strong words, offers
(出售…, 代开…) rather than the subjects citizens complain about (a complaint about 赌博 in a neighbourhood must
not wait), and phrases that usually introduce someone's private details. A match only holds a submission for
review; administrators edit the list at /moderation/words.
"""
DEFAULT_WORDS = {
    "abuse": ["傻逼", "煞笔", "脑残", "王八蛋", "狗官", "贱人", "去死吧", "人渣"],
    "advertising": ["加微信", "加我微信", "代开发票", "日赚千元", "兼职日结", "无抵押贷款", "信用卡套现", "扫码领红包"],
    "illegal": ["出售枪支", "代孕", "办理假证", "出售假证", "网赌平台", "六合彩", "出售公民信息", "翻墙软件"],
    "personal_data": ["身份证号码是", "银行卡号是", "家庭住址是", "手机号码是"],
}
