"""Shared helpers of the API tests: tokens and requests with a bearer token."""
from api import tokens
from core.extensions import db


def make_token(user, name: str = "测试脚本") -> str:
    """A fresh API token for ``user``; returns its secret."""
    _token, secret = tokens.create_token(user, name)
    db.session.flush()
    return secret


def bearer(secret: str, language: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {secret}"}
    if language:
        headers["Accept-Language"] = language
    return headers


def api_post(client, url: str, secret: str | None = None, *, language: str | None = None, **kwargs):
    headers = bearer(secret, language) if secret else ({"Accept-Language": language} if language else {})
    return client.post(url, csrf=False, headers=headers, **kwargs)


def api_delete(client, url: str, secret: str, *, language: str | None = None):
    return client.delete(url, headers=bearer(secret, language))


PHONE, ID_NUMBER, EMAIL = "13812345678", "110101199003074518", "zhang.san@example.com"
PII = (PHONE, ID_NUMBER, EMAIL)
PII_TEXT = f"我的手机号{PHONE}，身份证号{ID_NUMBER}，邮箱{EMAIL}，欢迎联系。"


def seed():
    """A campaign with public, pending and hidden proposals, a reply with a rating, a cluster and an outcome;
    personal data (phone, ID number, e-mail) sits in every kind of free text the API shows."""
    from datetime import date
    from types import SimpleNamespace

    from outcomes import services as outcome_services
    from suggestions import clustering, ratings, services
    from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

    body = make_body("青溪县交通运输局", region="江南省临川市青溪县")
    staff = make_staff(body, "staff_traffic")
    staff.display_name = "李科员"
    author = make_user("wangxiaoming", display_name="王小明")
    author.email = "wang.xiaoming@example.org"
    supporter = make_user("supporter1", display_name="赵支持")
    campaign = make_campaign(body, title="青溪县道路交通安全建议征集")
    first = make_suggestion(campaign, author, title=f"请联系{PHONE}：建议在城南小学门口增设护学岗",
                            body=f"每天上下学时段城南小学门口车辆拥堵，学生过马路很危险，建议增设护学岗。{PII_TEXT}")
    twin = make_suggestion(campaign, supporter, title=f"建议城南小学门口设置护学岗{PHONE}",
                           body=f"城南小学门口每天上下学车辆拥堵，学生过马路危险，建议设置护学岗。{PII_TEXT}")
    other = make_suggestion(campaign, supporter, title="建议青溪大道增设路灯",
                            body="青溪大道晚上太暗，行人和非机动车看不清路，建议增设路灯并定期检修。")
    services.vote(supporter, first, 1)
    services.reply_to_suggestion(staff, first, decision="adopted",
                                 content=f"您好，您的建议已采纳，我局将增设护学岗。如有疑问请致电{PHONE}或发邮件至{EMAIL}。")
    ratings.rate_reply(author, first, "satisfied", [], f"谢谢！我的电话{PHONE}")
    hidden = make_suggestion(campaign, author, title="一条被隐藏的建议", body=f"这条建议被隐藏了，不应出现。{PII_TEXT}")
    moderator = make_user("moderator1", role="moderator")
    services.hide_suggestion(moderator, hidden, "含个人信息")
    screened = make_campaign(body, title="需要审核的征集", screening=True)
    pending = make_suggestion(screened, author, title="一条待审核的建议", body=f"这条建议还在审核中，不应公开。{PII_TEXT}")
    draft = make_campaign(body, title="草稿征集", status="draft")
    clustering.cluster_campaign(campaign)
    outcome = outcome_services.create_outcome(
        staff, body, title="青溪县中小学护学岗设置办法", document_name="关于设置护学岗的通知",
        document_number="青交发〔2026〕3号", link="https://example.gov.cn/notice/3",
        clause=f"第三条 学校门口设护学岗。联系人身份证{ID_NUMBER}", stage="issued", progress=40)
    outcome_services.link_suggestion(staff, outcome, first)
    outcome_services.add_milestone(staff, outcome, date(2026, 3, 1), "通知印发", f"咨询电话{PHONE}")
    return SimpleNamespace(body=body, staff=staff, author=author, supporter=supporter, campaign=campaign,
                           first=first, twin=twin, other=other, hidden=hidden, pending=pending, screened=screened,
                           draft=draft, outcome=outcome, moderator=moderator)
