"""The core loop in real Chromium (Playwright, headless, Debian's /usr/bin/chromium), on a phone-sized screen:
register, log in, see a similar proposal while typing one, submit it, find it by search, support another;
staff accept it, reply "adopted" and record the policy outcome; the citizen sees the reply, rates it, opens
the outcome page and the figures (charts drawn by ECharts)."""
import re

import pytest

from core.extensions import db
from tests.browser.site_menu import menu_item
from tests.conftest import BROWSER
from tests.factories import PASSWORD, make_body, make_campaign, make_staff, make_suggestion

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]

@pytest.mark.parametrize("backend", ["sqlite"])
def test_register_submit_support_reply_loop(app, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    body = make_body("青溪县交通运输局")
    campaign = make_campaign(body, title="青溪县道路交通安全建议征集")
    other = make_suggestion(campaign, title="建议在人民路口增设行人过街信号灯",
                            body="人民路与解放路交叉口车流量大，没有行人过街信号灯，老人和孩子过马路很危险，建议增设。")
    staff_name = make_staff(body, "qingxi_staff").username
    campaign_id, other_id = campaign.id, other.id
    db.session.commit()
    db.session.close()
    base = live_server.url

    # A citizen on a phone: register, log out, log in again.
    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = phone.new_page()
    page.goto(f"{base}/accounts/register")
    page.get_by_label("用户名").fill("chen_xiaoyu")
    page.get_by_label("显示名称（可选）").fill("陈晓雨")
    page.get_by_label("密码", exact=True).fill("walk-the-loop")
    page.get_by_label("确认密码").fill("walk-the-loop")
    page.get_by_role("button", name="注册账号").click()
    expect(page.get_by_text("欢迎您，陈晓雨")).to_be_visible()
    menu_item(page, "button", "退出登录").click()
    menu_item(page, "link", "登录").click()
    page.get_by_label("用户名").fill("chen_xiaoyu")
    page.get_by_label("密码").fill("walk-the-loop")
    page.get_by_role("button", name="登录").click()
    expect(menu_item(page, "link", "陈晓雨")).to_be_visible()  # the account, behind 菜单 on a phone

    # Submit a proposal to the campaign; while typing, a similar existing proposal is offered for support.
    page.goto(f"{base}/campaigns/{campaign_id}")
    page.get_by_role("link", name="提出建议").click()
    page.get_by_label("标题").fill("人民路口没有行人过街信号灯")
    page.get_by_label("内容").fill("人民路和解放路交叉口没有过街信号灯，老人孩子过马路很危险")
    hints = page.locator("#similar-while-typing")
    expect(hints.get_by_role("link", name="建议在人民路口增设行人过街信号灯")).to_be_visible()
    expect(hints.get_by_role("button", name="改为支持这条")).to_be_visible()
    expect(hints.locator(".relation").first).to_have_text(re.compile("内容相同|内容相近|相关"))
    title_box, body_box = page.get_by_label("标题").bounding_box(), page.get_by_label("内容").bounding_box()
    hints_box = hints.bounding_box()  # on a phone: under the title, above the text being typed
    assert title_box["y"] + title_box["height"] <= hints_box["y"] < body_box["y"]
    page.set_viewport_size({"width": 1280, "height": 800})  # on a wide screen: beside the text
    body_box, hints_box = page.get_by_label("内容").bounding_box(), hints.bounding_box()
    assert hints_box["x"] >= body_box["x"] + body_box["width"]
    page.set_viewport_size({"width": 375, "height": 812})
    page.get_by_label("标题").fill("建议在城南小学门口增设护学岗")
    page.get_by_label("内容").fill("每天放学时段城南小学门口车辆拥堵，学生过马路很危险。建议增设护学岗，并在路口施划斑马线。")
    page.get_by_label("分类").select_option(label="交通运输")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="建议在城南小学门口增设护学岗")).to_be_visible()
    expect(page.locator("#status")).to_have_text("已公开")
    own_url = page.url
    page.screenshot(path=str(tmp_path / "proposal-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling on a phone

    # Find it again with the search box in the header, typing in Traditional characters.
    menu_item(page, "searchbox", "搜索建议").fill("護學崗")
    menu_item(page, "button", "搜索").click()
    expect(page.locator(".search-hits mark").first).to_have_text("护学岗")
    expect(page.get_by_role("link", name="建议在城南小学门口增设护学岗")).to_be_visible()

    # Support another citizen's proposal.
    page.goto(f"{base}/suggestions/{other_id}")
    page.get_by_role("button", name="支持", exact=True).click()
    expect(page.locator("#support-count")).to_have_text("1")
    expect(page.get_by_text("您已支持这条建议。")).to_be_visible()

    # Staff of the body reply on a desktop browser.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff_page = desk.new_page()
    staff_page.goto(f"{base}/accounts/login")
    staff_page.get_by_label("用户名").fill(staff_name)
    staff_page.get_by_label("密码").fill(PASSWORD)
    staff_page.get_by_role("button", name="登录").click()
    menu_item(staff_page, "link", "待办事项").click()
    staff_page.get_by_role("link", name="建议在城南小学门口增设护学岗").click()
    staff_page.get_by_role("button", name="受理").click()
    expect(staff_page.locator("#status")).to_have_text("已受理")
    expect(staff_page.locator("#reply-due")).to_contain_text("答复期限")
    staff_page.get_by_label("采纳", exact=True).check()
    staff_page.get_by_role("textbox", name="官方答复").fill("您好！您的建议已采纳。县交警大队将于下月起在城南小学门口设置护学岗，并施划斑马线。")
    staff_page.get_by_role("button", name="发布答复").click()
    expect(staff_page.locator("#status")).to_have_text("已答复")
    # … and record the policy the adopted proposal became.
    staff_page.get_by_role("link", name="记录这条建议的政策成果").click()
    staff_page.get_by_label("采纳内容").fill("城区小学上下学时段设置护学岗")
    staff_page.get_by_label("文件名称").fill("青溪县城区学校交通安全管理办法")
    staff_page.get_by_label("文号").fill("青政办发〔2026〕12号")
    staff_page.get_by_label("相关条款").fill("第八条 城区小学上下学时段由交警和学校共同设置护学岗。")
    staff_page.get_by_label("阶段").select_option(label="已出台")
    staff_page.get_by_label("进度（%）").fill("40")
    staff_page.get_by_role("button", name="保存").click()
    expect(staff_page.get_by_role("heading", name="城区小学上下学时段设置护学岗")).to_be_visible()

    # The citizen sees the reply.
    page.goto(own_url)
    expect(page.locator("#status")).to_have_text("已答复")
    expect(page.get_by_text("县交警大队将于下月起")).to_be_visible()
    expect(page.locator(".badge-decision")).to_have_text(re.compile("采纳"))
    # The citizen rates the reply and follows the proposal to the policy it became.
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价。")).to_be_visible()
    expect(page.locator(".rating")).to_contain_text("满意")
    page.locator("#outcomes").get_by_role("link", name="城区小学上下学时段设置护学岗").click()
    expect(page.locator("#stage")).to_have_text("已出台")
    expect(page.locator("#outcome-proposals")).to_contain_text("建议在城南小学门口增设护学岗")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The figures: ECharts draws the charts (no CSP violation, no script error), the table view opens.
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base}/analytics/")
    expect(page.get_by_role("heading", name="数据统计", exact=True)).to_be_visible()
    expect(page.locator("#handling_days .chart canvas")).to_have_count(1)
    expect(page.locator("#funnel .chart canvas")).to_have_count(1)
    page.locator("#handling_days summary").click()
    expect(page.locator("#handling_days table")).to_be_visible()
    page.screenshot(path=str(tmp_path / "figures-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert problems == []
    phone.close()
    desk.close()
