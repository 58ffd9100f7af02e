"""The proposal form and page in real Chromium on a phone-sized screen (375 px): a citizen who wrote a phone number
into the text sees, after pressing 提交, why it was not submitted yet, on the first screen and focused, and submits
from there; the page then carries no note about masking over a masked text. A supporter moves the support to a
related proposal with one button. No page scrolls sideways."""
import pytest

from core.extensions import db
from suggestions.related import store_related
from tests.browser.test_moderation import log_in, no_sideways_scroll
from tests.conftest import BROWSER
from tests.factories import make_body, make_campaign, make_suggestion, make_user

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_privacy_check_is_seen_first_and_support_moves_in_one_click(app, live_server, browser):
    from playwright.sync_api import expect

    campaign = make_campaign(make_body("青溪县住房和城乡建设局"), title="青溪县小区停车建议征集")
    parking = make_suggestion(campaign, title="建议在锦绣华庭小区增设停车位",
                              body="锦绣华庭小区车位严重不足，晚上很多车只能停在消防通道上，存在安全隐患，建议利用小区东侧空地建设立体停车场。")
    variant = make_suggestion(campaign, title="锦绣华庭小区停车难，建议增设停车位",
                              body="锦绣华庭小区车位严重不足，晚上很多车辆只能停在消防通道上，存在很大安全隐患，建议利用小区东侧的空地建设立体停车场。")
    db.session.commit()
    store_related(variant)
    citizen = make_user("citizen_zhou").username
    campaign_id, parking_id, variant_id = campaign.id, parking.id, variant.id
    db.session.commit()
    db.session.close()
    base = live_server.url

    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = phone.new_page()
    log_in(page, base, citizen)
    page.goto(f"{base}/suggestions/new/{campaign_id}")
    page.get_by_label("标题").fill("学府路路灯坏了请尽快修复")
    page.get_by_label("内容").fill("学府路的路灯坏了三个月，晚上很黑，老人出门很危险。我的电话13812345678，修好了请告诉我。")
    page.get_by_label("分类").select_option(index=1)
    page.locator("#suggestion-form > button[type=submit]").click()
    review = page.locator("#privacy-review")
    expect(review).to_be_in_viewport()
    expect(review).to_be_focused()
    expect(review.get_by_role("heading")).to_have_text("尚未提交：请先处理正文中的个人信息")
    expect(review).to_contain_text("138****5678")
    expect(review.get_by_label("将这些信息移至保密栏")).to_be_checked()
    expect(review.get_by_role("button", name="提交")).to_be_in_viewport()
    no_sideways_scroll(page)
    review.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="学府路路灯坏了请尽快修复")).to_be_visible()
    expect(page.locator(".prose")).to_contain_text("138****5678")
    expect(page.locator("#private-contact")).to_contain_text("138 1234 5678")
    expect(page.locator("#shown-as-written")).to_have_count(0)

    page.goto(f"{base}/suggestions/{variant_id}")
    expect(page.locator("#similar")).not_to_have_attribute("open", "")  # folded on a phone, below the reply
    page.locator("#similar > summary").click()
    related = page.locator(".similar-list")
    expect(related.get_by_role("button", name="支持这条", exact=True)).to_be_visible()
    expect(related.get_by_role("button", name="改为支持这条")).to_have_count(0)
    page.get_by_role("button", name="支持", exact=True).click()
    expect(page.locator("#support-count")).to_have_text("1")
    page.locator("#similar > summary").click()
    related.get_by_role("button", name="改为支持这条").click()
    expect(page).to_have_url(f"{base}/suggestions/{parking_id}")
    expect(page.get_by_text("您的支持已转到这条建议。")).to_be_visible()
    expect(page.locator("#support-count")).to_have_text("1")
    expect(page.get_by_text("您已支持这条建议。")).to_be_visible()
    page.goto(f"{base}/suggestions/{variant_id}")
    expect(page.locator("#support-count")).to_have_text("0")
    no_sideways_scroll(page)
    phone.close()
