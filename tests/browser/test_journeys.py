"""Journeys through the browser at 375 px and 1280 px (issue 15): a citizen follows a proposal, is notified of
the reply, says the problem is not solved and sees it reopened; staff transfer a proposal and extend its
deadline; an analyst filters the figures, downloads open data and creates an API token. Each step: no sideways
scroll, no console error; screenshots go to test-results/screenshots/ (kept out of git)."""
import re

import pytest

from core.extensions import db
from core.workdays import add_working_days
from suggestions import services
from tests.browser.site_menu import Walk, menu_item
from tests.browser.test_loop import browser  # noqa: F401 - the Chromium fixture
from tests.browser.test_moderation import log_in
from tests.conftest import BROWSER
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]
WIDTHS = [(375, 812), (1280, 900)]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("width,height", WIDTHS)
def test_follow_be_notified_say_not_solved_and_see_it_reopened(app, live_server, browser, width, height):  # noqa: F811
    from playwright.sync_api import expect

    body = make_body("青溪县城市管理局")
    author, follower, staff = make_user("author_he"), make_user("follower_lu"), make_staff(body)
    suggestion = make_suggestion(make_campaign(body, title="青溪县市容环境建议征集"), author,
                                 title="人民路路灯不亮", body="人民路东段路灯已经一个月不亮，晚上行人很不安全，请尽快维修。")
    services.accept_suggestion(staff, suggestion)
    ids = (suggestion.id, author.username, follower.username, staff.id)
    db.session.commit()
    db.session.close()
    suggestion_id, author_name, follower_name, staff_id = ids
    base = live_server.url
    walk = Walk(browser, width, height, "follow")
    page = walk.page

    log_in(page, base, follower_name)
    page.goto(f"{base}/suggestions/{suggestion_id}")
    page.get_by_role("button", name="关注", exact=True).click()
    expect(page.get_by_role("button", name="取消关注")).to_be_visible()
    walk.check("followed")
    with app.app_context():  # the body replies
        from accounts.models import User
        from suggestions.models import Suggestion
        services.reply_to_suggestion(db.session.get(User, staff_id), db.session.get(Suggestion, suggestion_id),
                                     decision="adopted", content="您好！已安排维修，三日内完成。")
        db.session.commit()
    page.goto(base + "/")
    expect(menu_item(page, "link", re.compile(r"^通知 \(1\)"))).to_be_visible()
    menu_item(page, "link", re.compile(r"^通知")).click()
    page.locator("#notifications").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/suggestions/{suggestion_id}"))
    expect(page.locator("#status")).to_have_text("已答复")
    walk.check("notified")
    menu_item(page, "button", "退出登录").click()

    log_in(page, base, author_name)
    page.goto(f"{base}/suggestions/{suggestion_id}")
    page.get_by_label("不满意", exact=True).check()
    page.get_by_label("问题未解决").check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#status")).to_have_text("已受理")
    history = page.locator("#deadline-history")
    expect(history).to_contain_text("重新办理")
    expect(page.locator("#reply-due")).to_contain_text("答复期限")
    walk.check("reopened")
    walk.close()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("width,height", WIDTHS)
def test_staff_transfer_and_extend_from_any_screen(app, live_server, browser, width, height):  # noqa: F811
    from playwright.sync_api import expect

    first, second = make_body("青溪县城市管理局"), make_body("青溪县住房和城乡建设局")
    campaign = make_campaign(first, title="青溪县市容环境建议征集")
    suggestion = make_suggestion(campaign, title="幸福小区外墙瓷砖脱落", body="幸福小区3栋外墙瓷砖脱落，砸坏了楼下的车，请尽快处理。")
    staff = make_staff(first)
    make_staff(second, "staff_second")
    services.accept_suggestion(staff, suggestion)
    new_due = add_working_days(suggestion.reply_due_on, 5)
    suggestion_id, staff_name = suggestion.id, staff.username
    db.session.commit()
    db.session.close()
    base = live_server.url
    walk = Walk(browser, width, height, "transfer")
    page = walk.page

    log_in(page, base, staff_name)
    page.goto(f"{base}/suggestions/{suggestion_id}")
    page.get_by_label("新的答复期限").fill(new_due.isoformat())
    page.get_by_label("延期理由").fill("需会同物业现场勘查")
    page.get_by_role("button", name="延期", exact=True).click()
    expect(page.locator("#reply-due")).to_contain_text(new_due.isoformat())
    expect(page.locator("#deadline-history")).to_contain_text("需会同物业现场勘查")
    walk.check("extended")
    page.locator("#to_body").select_option(label="青溪县住房和城乡建设局")
    page.locator("#transfer-reason").fill("外墙维修属住建部门职责")
    page.get_by_role("button", name="转办", exact=True).click()
    expect(page.get_by_text("建议已转办。")).to_be_visible()
    expect(page.locator("#handling")).to_contain_text("青溪县住房和城乡建设局")
    history = page.locator("#deadline-history li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("延长至")
    expect(history.nth(1)).to_contain_text("外墙维修属住建部门职责")
    walk.check("transferred")
    walk.close()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("width,height", WIDTHS)
def test_an_analyst_filters_figures_downloads_open_data_and_creates_a_token(  # noqa: F811
        app, live_server, browser, width, height):  # noqa: F811
    from playwright.sync_api import expect

    body = make_body("青溪县教育局")
    make_suggestion(make_campaign(body, title="青溪县教育建议征集"), title="建议延长课后服务时间")
    analyst = make_user("analyst_fang").username
    db.session.commit()
    db.session.close()
    base = live_server.url
    walk = Walk(browser, width, height, "analyst")
    page = walk.page

    page.goto(f"{base}/analytics/")
    page.locator("form.filters select[name=body]").select_option(label="青溪县教育局")
    page.locator("form.filters").get_by_role("button", name="显示").click()
    expect(page).to_have_url(re.compile(r"[?&]body=\d+"))
    expect(page.locator("form.filters select[name=body] option:checked")).to_have_text("青溪县教育局")
    walk.check("figures-filtered")
    page.goto(f"{base}/open-data/")
    link = page.get_by_role("link", name="CSV").first
    response = page.request.get(base + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    walk.check("open-data")
    log_in(page, base, analyst)
    menu_item(page, "link", re.compile("网友")).click()
    page.get_by_role("link", name="管理 API 令牌").click()
    page.get_by_label("令牌名称").fill("数据分析脚本")
    page.get_by_role("button", name="创建令牌").click()
    secret = page.locator("#new-secret")
    expect(secret).to_have_value(re.compile(r"^jy_"))
    expect(page.locator("code", has_text="Authorization: Bearer <令牌>")).to_be_visible()
    walk.check("token")
    walk.close()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("width,height", WIDTHS)
def test_staff_review_a_group_of_similar_proposals(app, live_server, browser, width, height):  # noqa: F811
    from playwright.sync_api import expect

    from suggestions.clustering import cluster_campaign
    from tests.suggestions.test_clusters import PARKING, PARKING_REWORDED, PARKING_TRADITIONAL, propose

    body = make_body("青溪县住房和城乡建设局")
    campaign = make_campaign(body, title="青溪县小区停车建议征集")
    for text in (PARKING, PARKING_REWORDED, PARKING_TRADITIONAL):
        propose(campaign, text)
    db.session.commit()
    cluster_campaign(campaign)
    staff = make_staff(body).username
    db.session.commit()
    campaign_id, third_title = campaign.id, PARKING_TRADITIONAL[0]
    db.session.close()
    base = live_server.url
    walk = Walk(browser, width, height, "cluster")
    page = walk.page

    log_in(page, base, staff)
    page.goto(f"{base}/suggestions/clusters?campaign={campaign_id}")
    page.get_by_role("link", name=PARKING[0]).first.click()
    expect(page.locator("#cluster-supporters")).to_be_visible()
    walk.check("group")
    member = page.locator("li", has_text=third_title).last
    member.get_by_label("理由").fill("繁体重复提交，已单独答复")
    member.get_by_role("button", name="移出本组").click()
    expect(page.get_by_text("相似建议分组已更新。")).to_be_visible()
    expect(page.locator("li", has_text=third_title)).to_have_count(0)
    page.get_by_role("button", name="确认本组").click()
    expect(page.get_by_text("已由工作人员确认")).to_be_visible()
    walk.check("reviewed")
    walk.close()
