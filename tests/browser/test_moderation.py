"""Moderation in real Chromium on a phone-sized screen (375 px): a citizen reports a proposal, a moderator finds it
in the queue's "reported" tab with the reason and note, hides it with the row's own button, then sees it under
"hidden" and restores it. No page scrolls sideways."""
import pytest

from core.extensions import db
from moderation import services as moderation_services
from suggestions import services
from tests.browser.site_menu import menu_item
from tests.conftest import BROWSER
from tests.factories import PASSWORD, make_body, make_campaign, make_staff, make_suggestion, make_user

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_citizen_reports_and_a_moderator_decides_on_a_phone(app, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    campaign = make_campaign(make_body("青溪县城市管理局"), title="青溪县市容环境建议征集")
    proposal = make_suggestion(campaign, make_user("poster"), title="城南菜市场门口乱摆摊问题",
                               body="城南菜市场门口每天早上都有人占道摆摊，车辆无法通行，建议加强管理。")
    citizen, moderator = make_user("chen_report").username, make_user("mod_li", role="moderator").username
    proposal_id = proposal.id
    db.session.commit()
    db.session.close()
    base = live_server.url

    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = phone.new_page()
    log_in(page, base, citizen)
    page.goto(f"{base}/suggestions/{proposal_id}")
    page.get_by_text("举报这条建议").click()  # a <details> element: no script needed
    page.get_by_label("辱骂或人身攻击").check()
    page.get_by_label("给审核员的说明（可选）").fill("内容里有侮辱摊贩的话")
    no_sideways_scroll(page)
    page.get_by_role("button", name="提交举报").click()
    expect(page.get_by_text("感谢您的举报")).to_be_visible()
    expect(page.get_by_text("您已举报这项内容")).to_be_visible()
    menu_item(page, "button", "退出登录").click()

    # The moderator, on a phone too.
    log_in(page, base, moderator)
    menu_item(page, "link", "内容管理").click()
    page.get_by_role("link", name="被举报").click()
    item = page.locator(f"#item-{proposal_id}")
    expect(item).to_contain_text("城南菜市场门口乱摆摊问题")
    expect(item).to_contain_text("1 个账号举报")
    expect(item).to_contain_text("辱骂或人身攻击 ×1")
    expect(item).to_contain_text("内容里有侮辱摊贩的话")
    no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "queue-375.png"), full_page=True)
    item.get_by_role("button", name="屏蔽").click()
    expect(page.get_by_text("已完成：对 1 项执行“屏蔽”")).to_be_visible()
    page.get_by_role("link", name="已屏蔽").click()
    item = page.locator(f"#item-{proposal_id}")
    expect(item).to_contain_text("城南菜市场门口乱摆摊问题")
    no_sideways_scroll(page)
    item.get_by_role("button", name="恢复显示").click()
    expect(page.get_by_text("已完成：对 1 项执行“恢复显示”")).to_be_visible()
    page.goto(f"{base}/suggestions/{proposal_id}")
    expect(page.locator("#status")).to_have_text("已公开")
    no_sideways_scroll(page)
    phone.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_audit_log_reads_on_a_phone(app, live_server, browser, tmp_path):
    """At 375 px each row of the audit log is a card that fits the screen: labels, not codes, and nothing cut off
    or scrolled sideways; the filters are choices."""
    from playwright.sync_api import expect

    body = make_body("青溪县住房和城乡建设局")
    staff = make_staff(body, "audit_staff_wang")
    campaign = make_campaign(body, title="青溪县老旧小区改造意见征集")
    long_title = "关于青溪县城关镇东风路老旧小区加装电梯、改造雨污管网和增设非机动车充电设施的综合性建议"
    proposal = make_suggestion(campaign, make_user(), title=long_title)
    services.accept_suggestion(staff, proposal)
    moderation_services.report(make_user(), proposal, "off_topic", "与本次征集的主题关系不大，建议转给有关部门")
    admin = make_user("audit_admin_li", role="admin").username
    db.session.commit()
    db.session.close()
    base = live_server.url

    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = phone.new_page()
    log_in(page, base, admin)
    menu_item(page, "link", "操作日志").click()
    rows = page.locator("#audit tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("受理建议")
    expect(page.locator("#audit")).to_contain_text("理由：与主题无关")
    expect(page.locator("#audit")).not_to_contain_text("suggestion.accept")
    no_sideways_scroll(page)
    assert page.evaluate("document.querySelector('#audit').scrollWidth <= document.querySelector('#audit').clientWidth")
    # Every cell lies within the screen (no column cut off beyond the right edge).
    assert page.evaluate("Math.max(...[...document.querySelectorAll('#audit td')]"
                         ".map(td => td.getBoundingClientRect().right))") <= 375
    page.screenshot(path=str(tmp_path / "audit-375.png"), full_page=True)
    # The filters are choices with labels: narrow to one action.
    page.get_by_label("操作", exact=True).select_option(label="受理建议")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(long_title)
    no_sideways_scroll(page)
    phone.close()
