"""Verified numbers and floods in real Chromium on a phone-sized screen (375 px): a citizen sent from a campaign that
asks for a verified number types the number and the texted code, comes back and supports; a moderator reads a
flood group's evidence and holds its supports. No page scrolls sideways, and no script is needed."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import utcnow
from core.sms import SmsMessage
from moderation import floods
from tests.browser.site_menu import menu_item
from tests.browser.test_moderation import log_in, no_sideways_scroll
from tests.conftest import BROWSER
from tests.factories import make_body, make_campaign, make_suggestion, make_user
from tests.moderation.test_floods import bulk_supports, bulk_users, net

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_verify_a_number_then_support_and_a_moderator_holds_a_flood(app, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    campaign = make_campaign(make_body("青溪县文化和旅游局"), title="青溪县全民阅读建议征集")
    proposal = make_suggestion(campaign, title="建议延长青溪图书馆晚间开放时间",
                               body="青溪图书馆晚上六点就闭馆，上班族下班后无法借书，建议延长到晚上九点。")
    campaign.phone_to_vote = True
    now = utcnow()
    newcomers = bulk_users([timedelta(hours=3)] * 25, now)
    bulk_supports(proposal, [(u, now - timedelta(minutes=20) + timedelta(seconds=20 * i), net(3))
                             for i, u in enumerate(newcomers)])
    floods.detect_floods(floods.FloodSettings(), now=now)
    citizen, moderator = make_user("reader_wang").username, make_user("mod_zhao", role="moderator").username
    proposal_id = proposal.id
    db.session.commit()
    db.session.close()
    base = live_server.url

    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = phone.new_page()
    log_in(page, base, citizen)
    page.goto(f"{base}/suggestions/{proposal_id}")
    expect(page.locator("#phone-needed")).to_be_visible()
    page.get_by_role("button", name="支持", exact=True).click()
    expect(page.get_by_text("本次征集活动要求验证手机号码后方可支持或反对建议")).to_be_visible()
    page.get_by_label("手机号码").fill("139 0571 2345")
    no_sideways_scroll(page)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送至 139****2345")).to_be_visible()
    text = db.session.scalar(sa.select(SmsMessage.text).order_by(SmsMessage.id.desc()).limit(1))
    db.session.close()
    page.get_by_role("textbox", name="验证码").fill(re.search(r"\d{6}", text).group())
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.get_by_text("您的手机号码已验证")).to_be_visible()
    assert page.url.endswith(f"/suggestions/{proposal_id}")  # back where the citizen came from
    page.get_by_role("button", name="支持", exact=True).click()
    expect(page.locator("#support-count")).to_have_text("26")
    menu_item(page, "button", "退出登录").click()

    log_in(page, base, moderator)
    menu_item(page, "link", "内容管理").click()
    page.get_by_role("link", name=re.compile("异常集中")).click()
    group = page.locator("#floods li.flood").first
    expect(group).to_contain_text("同一建议的集中支持")
    expect(group).to_contain_text("25 个账号，其中 25 个在行动前 7 天内注册")
    no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "floods-375.png"), full_page=True)
    group.get_by_role("button", name="暂扣这些支持").click()
    expect(page.get_by_text("已暂扣 25 条支持")).to_be_visible()
    page.goto(f"{base}/suggestions/{proposal_id}")
    expect(page.locator("#support-count")).to_have_text("1")
    no_sideways_scroll(page)
    phone.close()
