"""Every journey of issue 15 through real Chromium, at 375 px and 1280 px, in Chinese and in English.

A citizen registers, writes a proposal while similar ones are offered, submits it, finds it by search, supports
another and withdraws, and reports one; a follower is notified of the reply, the author says the problem is not
solved and sees it reopened; staff accept, extend, transfer, reply and record the policy outcome with a milestone;
staff review a group of similar proposals; an analyst filters the figures, downloads open data and creates an API
token. After every step (``Walk.check``): no sideways scroll, no console error, no serious or critical axe-core
violation, and a screenshot in test-results/screenshots/ (kept out of git)."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.models import utcnow
from core.workdays import add_working_days, is_working_day
from suggestions import services
from tests.browser.site_menu import Walk, menu_item
from tests.conftest import BROWSER
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)"),
              pytest.mark.parametrize("backend", ["sqlite"])]
EVERY_WIDTH_AND_LANGUAGE = pytest.mark.parametrize("width,height,language", [
    pytest.param(375, 812, "zh_Hans", id="375-zh"), pytest.param(375, 812, "en", id="375-en"),
    pytest.param(1280, 900, "zh_Hans", id="1280-zh"), pytest.param(1280, 900, "en", id="1280-en")])


@pytest.fixture
def walker(browser, width, height, language):
    """``walker(name)`` opens the test's walk at its width and language; the walk is closed after the test."""
    walks = []

    def start(name: str) -> Walk:
        walks.append(Walk(browser, width, height, name, language))
        return walks[-1]
    yield start
    for walk in walks:
        walk.close()


def saved(*values):
    """Commit the test's data and let go of the session: the live server reads it from its own connection."""
    db.session.commit()
    db.session.close()
    return values


@EVERY_WIDTH_AND_LANGUAGE
def test_a_citizen_registers_writes_with_hints_searches_supports_withdraws_and_reports(app, live_server, walker):
    campaign = make_campaign(make_body("青溪县交通运输局", name_en="Qingxi County Transport Bureau"),
                             title="青溪县道路交通安全建议征集")
    other = make_suggestion(campaign, title="建议在人民路口增设行人过街信号灯",
                            body="人民路与解放路交叉口车流量大，没有行人过街信号灯，老人和孩子过马路很危险，建议增设。")
    campaign_id, other_id = saved(campaign.id, other.id)
    base = live_server.url
    walk = walker("citizen")
    page, t = walk.page, walk.t

    walk.open(f"{base}/accounts/register")
    page.get_by_label(t("Username")).fill("chen_xiaoyu")
    page.get_by_label(t("Display name (optional)")).fill("陈晓雨")
    page.get_by_label(t("Password"), exact=True).fill("walk-the-loop")
    page.get_by_label(t("Repeat password")).fill("walk-the-loop")
    page.get_by_role("button", name=t("Create account")).click()
    expect(page.get_by_text(t("Welcome, %(name)s. Your account is ready.") % {"name": "陈晓雨"})).to_be_visible()
    walk.check("registered")

    # While typing, the similar proposal already made is offered, with the relation named.
    page.goto(f"{base}/campaigns/{campaign_id}")
    page.get_by_role("link", name=t("Submit a proposal")).first.click()
    page.get_by_label(t("Title")).fill("人民路口没有行人过街信号灯")
    page.get_by_label(t("Content")).fill("人民路和解放路交叉口没有过街信号灯，老人孩子过马路很危险")
    hints = page.locator("#similar-while-typing")
    expect(hints.get_by_role("link", name="建议在人民路口增设行人过街信号灯")).to_be_visible()
    expect(hints.get_by_role("button", name=t("Support this one instead"))).to_be_visible()
    relations = [t("same text"), t("same text, reworded"), t("the same issue"), t("the same issue, in other words")]
    expect(hints.locator(".relation").first).to_have_text(re.compile("|".join(map(re.escape, relations))))
    walk.check("hints")
    page.get_by_label(t("Title")).fill("建议在城南小学门口增设护学岗")
    page.get_by_label(t("Content")).fill("每天放学时段城南小学门口车辆拥堵，学生过马路很危险。建议增设护学岗，并在路口施划斑马线。")
    page.get_by_label(t("Category")).select_option(label="交通运输" if walk.language == "zh_Hans" else "Transport")
    page.locator("#suggestion-form > button[type=submit]").click()
    expect(page.get_by_role("heading", name="建议在城南小学门口增设护学岗")).to_be_visible()
    expect(page.locator("#status")).to_have_text(t("Published"))
    walk.check("submitted")

    # Found again with the header's search box, typed in Traditional characters.
    menu_item(page, "searchbox", t("Search proposals")).fill("護學崗")
    menu_item(page, "button", t("Search")).click()
    expect(page.locator(".search-hits mark").first).to_have_text("护学岗")
    expect(page.get_by_role("link", name="建议在城南小学门口增设护学岗")).to_be_visible()
    walk.check("searched")
    filters = page.locator("#filters")  # above the hits: folded on a phone, open on a wide screen
    assert filters.get_attribute("open") is None if walk.width < 768 else filters.get_attribute("open") is not None
    if walk.width < 768:
        filters.locator("summary").click()
    filters.get_by_role("link", name=t("Published")).click()
    expect(page).to_have_url(re.compile(r"[?&]status=published"))
    expect(page.locator("#filters > summary")).to_have_text(t("Filters") + " (1)")
    walk.check("filtered")

    page.goto(f"{base}/suggestions/{other_id}")
    page.get_by_role("button", name=t("Support"), exact=True).click()
    expect(page.locator("#support-count")).to_have_text("1")
    expect(page.get_by_text(t("You support this proposal."))).to_be_visible()
    summary = page.locator("p.meta", has=page.locator("#support-summary"))  # one's support, on the first screen
    expect(summary).to_contain_text(t("%(num)d support").replace("%(num)d", "1") + t("(including yours)"))
    expect(page.locator("#support-summary")).to_be_in_viewport()
    walk.check("supported")
    page.get_by_role("button", name=t("Withdraw my support")).click()
    expect(page.get_by_text(t("Your vote has been withdrawn."))).to_be_visible()
    expect(page.locator("#support-count")).to_have_text("0")
    walk.check("withdrawn")

    page.get_by_text(t("Report this proposal")).click()  # a <details> element: no script needed
    page.get_by_label(t("Abusive or insulting")).check()
    page.get_by_label(t("Note for the moderators (optional)")).fill("标题里有侮辱性的话")
    page.get_by_role("button", name=t("Send the report")).click()
    expect(page.get_by_text(t("You have reported this. The moderators will look at it."))).to_be_visible()
    walk.check("reported")


@EVERY_WIDTH_AND_LANGUAGE
def test_follow_be_notified_say_not_solved_and_see_it_reopened(app, live_server, walker):
    body = make_body("青溪县城市管理局", name_en="Qingxi County Urban Management Bureau")
    author, follower, staff = make_user("author_he"), make_user("follower_lu"), make_staff(body)
    suggestion = make_suggestion(make_campaign(body, title="青溪县市容环境建议征集"), author,
                                 title="人民路路灯不亮", body="人民路东段路灯已经一个月不亮，晚上行人很不安全，请尽快维修。")
    services.accept_suggestion(staff, suggestion)
    suggestion_id, author_name, follower_name, staff_id = saved(
        suggestion.id, author.username, follower.username, staff.id)
    base = live_server.url
    walk = walker("follow")
    page, t = walk.page, walk.t

    walk.log_in(base, follower_name)
    page.goto(f"{base}/suggestions/{suggestion_id}")
    page.get_by_role("button", name=t("Follow"), exact=True).click()
    expect(page.get_by_role("button", name=t("Stop following"))).to_be_visible()
    walk.check("followed")
    with app.app_context():  # the body replies
        from accounts.models import User
        from suggestions.models import Suggestion
        services.reply_to_suggestion(db.session.get(User, staff_id), db.session.get(Suggestion, suggestion_id),
                                     decision="adopted", content="您好！已安排维修，三日内完成。")
        db.session.commit()
    page.goto(base + "/")
    notifications = re.compile("^" + re.escape(t("Notifications")))
    expect(menu_item(page, "link", re.compile(notifications.pattern + r" \(1\)"))).to_be_visible()
    menu_item(page, "link", notifications).click()
    page.locator("#notifications").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/suggestions/{suggestion_id}"))
    expect(page.locator("#status")).to_have_text(t("Replied"))
    walk.check("notified")
    walk.log_out()

    walk.log_in(base, author_name)
    page.goto(f"{base}/suggestions/{suggestion_id}")
    page.get_by_label(t("Unsatisfied"), exact=True).check()
    page.get_by_label(t("The problem is not solved")).check()
    page.get_by_role("button", name=t("Send my rating")).click()
    expect(page.get_by_text(t("Thank you. The proposal has been reopened: the body will reply again."))).to_be_visible()
    expect(page.locator("#status")).to_have_text(t("Accepted for handling"))
    expect(page.locator("#deadline-history")).to_contain_text(walk.pattern(
        "On %(when)s the author said the problem was not solved: the proposal was reopened for a second reply, "
        "due by %(new)s."))
    expect(page.locator("#reply-due")).to_contain_text(t("Reply due"))
    walk.check("reopened")


@EVERY_WIDTH_AND_LANGUAGE
def test_staff_accept_extend_transfer_reply_and_record_the_outcome(app, live_server, walker):
    first = make_body("青溪县城市管理局", name_en="Qingxi County Urban Management Bureau")
    second = make_body("青溪县住房和城乡建设局", name_en="Qingxi County Housing and Urban-Rural Development Bureau")
    campaign = make_campaign(first, title="青溪县市容环境建议征集")
    suggestion = make_suggestion(campaign, title="幸福小区外墙瓷砖脱落", body="幸福小区3栋外墙瓷砖脱落，砸坏了楼下的车，请尽快处理。")
    suggestion_id, first_staff, second_staff = saved(
        suggestion.id, make_staff(first).username, make_staff(second, "staff_second").username)
    base = live_server.url
    walk = walker("staff")
    page, t = walk.page, walk.t

    walk.log_in(base, first_staff)
    menu_item(page, "link", t("Staff inbox")).click()
    page.get_by_role("link", name="幸福小区外墙瓷砖脱落").click()
    expect(page).to_have_url(re.compile(rf"/suggestions/{suggestion_id}"))  # the click only starts the navigation
    walk.check("inbox-item")
    page.get_by_role("link", name=t("Go to the staff actions ↓")).click()  # below the proposal: one tap away
    expect(page.get_by_role("heading", name=t("Staff actions"))).to_be_in_viewport()
    page.get_by_role("button", name=t("Accept for handling")).click()
    expect(page.locator("#status")).to_have_text(t("Accepted for handling"))
    expect(page.locator("#reply-due")).to_contain_text(t("Reply due"))
    walk.check("accepted")
    due = date.fromisoformat(page.locator("#reply-due .date").first.inner_text())
    new_due = add_working_days(due, 5).isoformat()
    rest_day = next(due + timedelta(days=n) for n in range(1, 10) if not is_working_day(due + timedelta(days=n)))
    count = page.locator("#extension-count")  # the date picker says what a date means in working days
    page.get_by_label(t("New deadline")).fill(rest_day.isoformat())
    expect(count).to_have_text(t("That day is a weekend day or a public holiday."))
    page.get_by_label(t("New deadline")).fill(new_due)
    expect(count).to_have_text(t("%(n)s working days after the current deadline.") % {"n": 5})
    page.get_by_label(t("Reason for the extension")).fill("需会同物业现场勘查")
    page.get_by_role("button", name=t("Extend"), exact=True).click()
    expect(page.locator("#reply-due")).to_contain_text(new_due)
    expect(page.locator("#deadline-history")).to_contain_text("需会同物业现场勘查")
    walk.check("extended")
    second_name = ("青溪县住房和城乡建设局" if walk.language == "zh_Hans"
                   else "Qingxi County Housing and Urban-Rural Development Bureau")
    # The body picker: pinyin initials typed into the search box refill the list (static/js/body_picker.js).
    page.get_by_label(t("Find a body")).fill("qxxzfhcxjsj")
    expect(page.locator("#to_body option")).to_have_count(2)  # "Choose…" and the one match
    expect(page.locator("#body-picker-status")).to_contain_text("1")
    page.locator("#to_body").select_option(label=second_name)
    page.locator("#transfer-reason").fill("外墙维修属住建部门职责")
    page.get_by_role("button", name=t("Transfer"), exact=True).click()
    expect(page.get_by_text(t("The proposal has been transferred."))).to_be_visible()
    expect(page.locator("#handling")).to_contain_text(second_name)
    history = page.locator("#deadline-history li")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("外墙维修属住建部门职责")
    walk.check("transferred")
    walk.log_out()

    # The body it was transferred to replies "adopted" and records the policy it became, with a milestone.
    walk.log_in(base, second_staff)
    page.goto(f"{base}/suggestions/{suggestion_id}")
    page.get_by_role("button", name=t("Publish reply")).click()  # nothing written: refused, and seen where it is
    expect(page.locator("#post-reply")).to_be_in_viewport()
    walk.check("reply-refused", refused=422)
    page.get_by_label(t("Adopted"), exact=True).check()
    page.get_by_role("textbox", name=t("Official reply")).fill("您好！您的建议已采纳。我局已安排对幸福小区外墙进行排查和修复。")
    page.get_by_role("button", name=t("Publish reply")).click()
    expect(page.locator("#status")).to_have_text(t("Replied"))
    walk.check("replied")
    page.get_by_role("link", name=t("Record the policy outcome of this proposal")).click()
    page.get_by_label(t("What was decided")).fill("老旧小区外墙安全隐患排查整治")
    page.get_by_label(t("Document"), exact=True).fill("青溪县老旧小区外墙安全管理办法")
    page.get_by_label(t("Document number"), exact=True).fill("青建发〔2026〕7号")
    page.get_by_label(t("Article or clause concerned")).fill("第五条 每年汛期前对老旧小区外墙开展一次排查。")
    page.get_by_label(t("Stage")).select_option(label=t("Issued"))
    page.get_by_label(t("Progress (%)")).fill("40")
    walk.check("outcome-form")
    page.get_by_role("button", name=t("Save")).click()
    expect(page.get_by_role("heading", name="老旧小区外墙安全隐患排查整治")).to_be_visible()
    page.get_by_label(t("Date"), exact=True).fill(utcnow().date().isoformat())
    page.get_by_label(t("Milestone"), exact=True).fill("完成第一批12个小区外墙排查")
    page.get_by_role("button", name=t("Add"), exact=True).click()
    expect(page.get_by_text(t("The milestone has been added."))).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("完成第一批12个小区外墙排查")
    walk.check("outcome")


@EVERY_WIDTH_AND_LANGUAGE
def test_staff_review_a_group_of_similar_proposals(app, live_server, walker):
    from suggestions.clustering import cluster_campaign
    from tests.suggestions.test_clusters import PARKING, PARKING_REWORDED, PARKING_TRADITIONAL, propose

    body = make_body("青溪县住房和城乡建设局")
    campaign = make_campaign(body, title="青溪县小区停车建议征集")
    for text in (PARKING, PARKING_REWORDED, PARKING_TRADITIONAL):
        propose(campaign, text)
    db.session.commit()
    cluster_campaign(campaign)
    staff, campaign_id = saved(make_staff(body).username, campaign.id)
    third_title = PARKING_TRADITIONAL[0]
    base = live_server.url
    walk = walker("cluster")
    page, t = walk.page, walk.t

    walk.log_in(base, staff)
    page.goto(f"{base}/suggestions/clusters?campaign={campaign_id}")
    walk.check("groups")
    page.get_by_role("link", name=PARKING[0]).first.click()
    expect(page.locator("#cluster-supporters")).to_be_visible()
    walk.check("group")
    member = page.locator("li", has_text=third_title).last
    member.get_by_label(t("Reason")).fill("繁体重复提交，已单独答复")
    member.get_by_role("button", name=t("Move out of this group")).click()
    expect(page.get_by_text(t("The cluster has been updated."))).to_be_visible()
    expect(page.locator("li", has_text=third_title)).to_have_count(0)
    page.get_by_role("button", name=t("Confirm this group")).click()
    expect(page.get_by_text(t("Confirmed by staff"))).to_be_visible()
    walk.check("reviewed")


@EVERY_WIDTH_AND_LANGUAGE
def test_an_analyst_filters_figures_downloads_open_data_and_creates_a_token(app, live_server, walker):
    body = make_body("青溪县教育局", name_en="Qingxi County Education Bureau")
    make_suggestion(make_campaign(body, title="青溪县教育建议征集"), title="建议延长课后服务时间")
    (analyst,) = saved(make_user("analyst_fang").username)
    base = live_server.url
    walk = walker("analyst")
    page, t = walk.page, walk.t
    body_name = "青溪县教育局" if walk.language == "zh_Hans" else "Qingxi County Education Bureau"

    walk.open(f"{base}/analytics/")
    page.locator("form.filters select[name=body]").select_option(label=body_name)
    page.locator("form.filters").get_by_role("button", name=t("Show")).click()
    expect(page).to_have_url(re.compile(r"[?&]body=\d+"))
    expect(page.locator("form.filters select[name=body] option:checked")).to_have_text(body_name)
    walk.check("figures-filtered")
    page.goto(f"{base}/open-data/")
    link = page.get_by_role("link", name="CSV").first
    response = page.request.get(base + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    walk.check("open-data")
    walk.log_in(base, analyst)
    code_name = t("Participant·%(code)s").split("%")[0]  # no display name: shown under a code name
    menu_item(page, "link", re.compile("^" + re.escape(code_name))).click()
    page.get_by_role("link", name=t("Manage your API tokens")).click()
    page.get_by_label(t("Token name")).fill("数据分析脚本")
    page.get_by_role("button", name=t("Create token")).click()
    expect(page.locator("#new-secret")).to_have_value(re.compile(r"^jy_"))
    expect(page.locator("code", has_text=f"Authorization: Bearer <{t('token')}>")).to_be_visible()
    walk.check("token")
