"""The header as citizens and staff meet it, in real Chromium at 375 px and 1280 px: on a phone one short row
(the name, 提建议, 菜单) with the search box and the links behind 菜单, staff tools behind 工作台, API tokens on the
account page instead of the citizen's menu; on a wide screen everything in view. A proposal's page reads reply
first, then support with its progress to the reply threshold, then similar proposals (folded on a phone). No page
scrolls sideways, the console stays clean, and /favicon.ico answers."""
import pytest

from core.extensions import db
from suggestions.related import store_related
from tests.browser.site_menu import Walk, menu_item
from tests.browser.test_moderation import log_in
from tests.conftest import BROWSER
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_header_on_a_phone_and_on_a_wide_screen(app, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    body = make_body("青溪县交通运输局")
    campaign = make_campaign(body, title="青溪县道路交通安全隐患征集")
    campaign.support_threshold = 3
    make_suggestion(campaign, title="建议在锦绣华庭小区增设停车位",
                              body="锦绣华庭小区车位严重不足，晚上很多车只能停在消防通道上，存在安全隐患，建议利用小区东侧空地建设立体停车场。")
    variant = make_suggestion(campaign, title="锦绣华庭小区停车难，建议增设停车位",
                              body="锦绣华庭小区车位严重不足，晚上很多车辆只能停在消防通道上，存在很大安全隐患，建议利用小区东侧的空地建设立体停车场。")
    db.session.commit()
    store_related(variant)
    citizen, staff = make_user("citizen_wu").username, make_staff(body, "staff_qian").username
    variant_id = variant.id
    db.session.commit()
    db.session.close()
    base = live_server.url

    walk = Walk(browser, 375, 812, "menu")
    page, errors = walk.page, walk.errors
    log_in(page, base, citizen)
    header = page.locator(".site-header")
    assert header.bounding_box()["height"] <= 100  # one row: it was about 400 of 812 px
    expect(page.get_by_role("link", name="提建议")).to_be_visible()
    expect(page.locator("#header-q")).to_be_hidden()
    expect(page.get_by_role("link", name="我的建议")).to_be_hidden()
    toggle = page.get_by_role("button", name="菜单")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#header-q")).to_be_visible()
    expect(page.get_by_role("link", name="我的建议")).to_be_visible()
    expect(page.locator("#site-menu").get_by_text("API 令牌")).to_have_count(0)
    expect(page.locator(".staff-menu")).to_have_count(0)  # a citizen has no staff tools
    page.keyboard.press("Escape")
    expect(page.locator("#header-q")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "menu-375.png"))
    no_sideways_scroll(page, 375)
    page.goto(f"{base}/accounts/settings")
    page.get_by_role("link", name="管理 API 令牌").click()
    expect(page.get_by_role("heading", name="API 令牌")).to_be_visible()

    # A proposal's page on a phone: similar proposals folded below the support box and its threshold bar.
    page.goto(f"{base}/suggestions/{variant_id}")
    expect(page.locator("#threshold-progress progress")).to_have_attribute("max", "3")
    expect(page.locator("#threshold-text")).to_contain_text("已获 0 人支持，达到 3 人即须正式答复")
    order = page.evaluate("""['#reply-heading', '#support-count', '#similar'].map(
        s => document.querySelector(s).getBoundingClientRect().top)""")
    assert order == sorted(order)
    similar = page.locator("#similar")
    expect(similar).not_to_have_attribute("open", "")
    similar.locator("summary").click()
    expect(similar.get_by_role("link", name="建议在锦绣华庭小区增设停车位")).to_be_visible()
    no_sideways_scroll(page, 375)
    menu_item(page, "button", "退出登录").click()

    log_in(page, base, staff)
    menu_item(page, "link", "待办事项").click()
    expect(page).to_have_url(f"{base}/suggestions/inbox")
    no_sideways_scroll(page, 375)
    assert errors == []
    assert page.request.get(f"{base}/favicon.ico").status == 200
    walk.close()

    desk = Walk(browser, 1280, 900, "menu")
    page, errors = desk.page, desk.errors
    log_in(page, base, staff)
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(page.locator("#header-q")).to_be_visible()
    expect(page.get_by_role("link", name="我的建议")).to_be_visible()
    expect(page.get_by_role("link", name="待办事项")).to_be_hidden()
    page.locator(".staff-menu > summary").click()
    expect(page.get_by_role("link", name="待办事项")).to_be_visible()
    page.goto(f"{base}/suggestions/{variant_id}")
    expect(page.locator("#similar")).to_have_attribute("open", "")  # open on a wide screen
    page.screenshot(path=str(tmp_path / "proposal-1280.png"), full_page=True)
    no_sideways_scroll(page, 1280)
    assert errors == []
    desk.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_staff_act_on_a_proposal_from_a_phone_in_english(app, live_server, browser, tmp_path):
    """The staff proposal page in English ran 605 px wide on a phone (the body selects), and its secondary actions
    were full-width white boxes that looked like text fields."""
    from playwright.sync_api import expect

    from accounts import services as accounts_services
    from suggestions import services

    long_name = "Qingxi County Bureau of Housing and Urban-Rural Development and Municipal Administration"
    body = accounts_services.create_body(None, name="青溪县住房和城乡建设局", name_en=long_name, kind="department",
                                         level="county", region="江南省临川市青溪县")
    accounts_services.create_body(None, name="青溪县交通运输局", name_en="Qingxi County Transport Bureau of the "
                                  "People's Government", kind="department", level="county", region="江南省临川市青溪县")
    campaign = make_campaign(body, title="青溪县小区停车建议征集")
    published = make_suggestion(campaign, title="建议在锦绣华庭小区增设停车位")
    accepted = make_suggestion(campaign, title="锦绣华庭小区消防通道被占")
    staff = make_staff(body, "staff_sun")
    services.accept_suggestion(staff, accepted)
    ids, name = (published.id, accepted.id), staff.username
    db.session.commit()
    db.session.close()
    base = live_server.url

    walk = Walk(browser, 375, 812, "staff-en")
    page, errors = walk.page, walk.errors
    log_in(page, base, name)
    menu_item(page, "button", "English").click()
    assert page.locator(".site-header").bounding_box()["height"] <= 100  # one row in English too
    for suggestion_id in ids:
        page.goto(f"{base}/suggestions/{suggestion_id}")
        expect(page.get_by_role("heading", name="Staff actions")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"staff-{suggestion_id}-375-en.png"), full_page=True)
        no_sideways_scroll(page, 375)
        for button in page.locator(".staff-box button").all():
            if button.is_visible():  # a button is as wide as its words, not a full-width box
                assert button.bounding_box()["width"] < 300, button.inner_text()
    expect(page.locator("#to_body")).to_have_value("")  # the transfer asks for a body instead of taking the first
    # Co-handling bodies: a list of check boxes under a heading, not a four-line select that clips the names.
    page.goto(f"{base}/suggestions/{ids[0]}")
    page.locator("details.co-bodies > summary").click()
    page.get_by_label("Qingxi County Transport Bureau of the People's Government").check()
    no_sideways_scroll(page, 375)
    page.get_by_role("button", name="Accept for handling").click()
    expect(page.locator("#handling")).to_contain_text("Qingxi County Transport Bureau")
    assert errors == []
    walk.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_large_text_mode_is_a_switch_that_is_remembered(app, live_server, browser):
    """适老化: 大字模式 in the menu makes text and targets larger on every page, and stays on after a reload."""
    from playwright.sync_api import expect

    suggestion = make_suggestion(make_campaign(make_body("青溪县民政局"), title="青溪县养老服务建议征集"),
                                 title="建议在社区增设老年食堂", body="社区老人多，子女白天上班，建议增设老年食堂，提供午餐。")
    suggestion_id = suggestion.id
    db.session.commit()
    db.session.close()
    base = live_server.url
    walk = Walk(browser, 375, 812, "menu")
    page, errors = walk.page, walk.errors
    page.goto(f"{base}/suggestions/{suggestion_id}")
    body_size = "parseFloat(getComputedStyle(document.body).fontSize)"
    normal = page.evaluate(body_size)
    switch = menu_item(page, "button", "大字模式")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(body_size) == pytest.approx(normal * 1.25)
    page.reload()
    assert page.evaluate(body_size) == pytest.approx(normal * 1.25)  # remembered on this device
    assert page.locator(".site-header").bounding_box()["height"] <= 120
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(base + "/")
    assert page.evaluate(body_size) == pytest.approx(normal * 1.25)
    assert page.locator("button.menu-toggle").bounding_box()["height"] >= 44 * 1.25 - 1  # targets grow too
    menu_item(page, "button", "大字模式").click()
    page.reload()
    assert page.evaluate(body_size) == pytest.approx(normal)
    assert errors == []
    walk.close()
