"""A draft consultation through real Chromium (issue 18): a citizen reads the draft on a phone, selects a passage
of an article and comments on it; the drafting team imports the revised version, reads the article's summary,
records its decision on the cluster of comments, sees it under the change, and publishes the feedback report,
which a reader then opens. After every step (``Walk.check``): no sideways scroll, no console error, no serious or
critical axe-core violation, and a screenshot."""
import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from drafts import parsing, services
from suggestions import clustering
from tests.browser.site_menu import Walk
from tests.conftest import BROWSER
from tests.drafts.test_drafts import FIRST, SECOND, article, comment
from tests.factories import make_body, make_campaign, make_staff, make_user

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)"),
              pytest.mark.parametrize("backend", ["sqlite"])]


@pytest.mark.parametrize("width,height,language", [pytest.param(375, 812, "zh_Hans", id="375-zh"),
                                                   pytest.param(1280, 900, "en", id="1280-en")])
def test_a_citizen_comments_on_a_passage_and_the_drafting_team_decides_and_reports(app, live_server, browser,
                                                                                  width, height, language):
    body = make_body("青溪县人民政府", name_en="Qingxi County Government")
    manager = make_staff(body, "drafter", role="manager")
    campaign = make_campaign(body, title="青溪县河道管理办法（征求意见稿）征求意见")
    draft = services.create_draft(manager, campaign, parsing.parse_text(FIRST), note="征求意见稿")
    mining = article(draft, "第五条")
    comment(draft, mining, title="采砂审批应当明确办理时段")
    make_user("he_qing")
    db.session.commit()
    clustering.cluster_campaign(campaign)
    draft_id, article_id, campaign_id = draft.id, mining.article_id, campaign.id
    db.session.commit()
    db.session.close()
    base = live_server.url

    reader = Walk(browser, width, height, "draft-citizen", language)
    staff = Walk(browser, width, height, "draft-staff", language)
    try:
        page, t = reader.page, reader.t
        reader.log_in(base, "he_qing")
        reader.open(f"{base}/drafts/{draft_id}")
        expect(page.get_by_role("heading", name="青溪县河道管理办法（征求意见稿）")).to_be_visible()
        section = page.locator(f"#article-{article_id}")
        expect(section.get_by_role("link", name=reader.pattern("%(num)d comment"))).to_have_text(
            re.compile("1"))
        reader.check("draft")
        # Select a passage of 第五条: the button to comment on it appears, and the form keeps the passage.
        page.evaluate("""(id) => {
            const node = document.querySelector(`#article-${id} .article-text p`).firstChild;
            const start = node.textContent.indexOf("应当经县水利局批准");
            const range = document.createRange();
            range.setStart(node, start); range.setEnd(node, start + 9);
            getSelection().removeAllRanges(); getSelection().addRange(range);
        }""", article_id)
        page.get_by_role("link", name=t("Comment on the selected passage")).click()
        expect(page.locator("#draft-target")).to_contain_text("在河道管理范围内采砂")
        expect(page.get_by_label(t("The passage you comment on (optional)"))).to_have_value("应当经县水利局批准")
        reader.check("comment-form")
        page.get_by_label(t("Content")).fill("建议明确采砂审批的办理时段，并向社会公开审批结果，接受群众监督。")
        page.get_by_label(t("Category")).select_option("transport")
        page.get_by_role("button", name=t("Submit")).click()
        expect(page.get_by_text(t("Your proposal has been published."))).to_be_visible()
        reader.check("comment-published")
        reader.open(f"{base}/drafts/{draft_id}")
        expect(section.get_by_role("link", name=reader.pattern("%(num)d comment"))).to_have_text(
            re.compile("2"))

        # The drafting team imports version 2, then decides on the article's cluster and publishes the report.
        page, t = staff.page, staff.t
        staff.log_in(base, "drafter")
        staff.open(f"{base}/drafts/import/{campaign_id}")
        page.get_by_label(t("Or paste the text")).fill(SECOND)
        page.get_by_label(t("Note")).fill("修改稿")
        page.get_by_role("button", name=t("Import")).click()
        expect(page.get_by_text(staff.pattern("Version %(n)d of the draft is published with %(count)d articles."))
               ).to_be_visible()
        staff.check("version-2")
        page.locator(f"#article-{article_id}").get_by_role("link", name=staff.pattern("%(num)d comment")).click()
        expect(page.locator("#summary-comments")).to_have_text("2")
        expect(page.locator("#earlier-numbers")).to_contain_text("第五条")
        staff.check("article-summary")
        row = page.locator("#summary-clusters > li").first
        row.get_by_label(t("Decision")).select_option("adopted")
        row.get_by_label(t("Reason")).fill("已在第六条增加按照批准的时段开采、接受监督的规定。")
        row.get_by_role("button", name=t("Record")).click()
        expect(page.get_by_text(t("The decision is recorded."))).to_be_visible()
        staff.check("decided")
        staff.open(f"{base}/drafts/{draft_id}/changes")
        expect(page.locator(f"#change-{article_id}")).to_contain_text("已在第六条增加按照批准的时段开采")
        expect(page.locator(f"#change-{article_id} ins").first).to_be_visible()
        staff.check("what-changed")
        staff.open(f"{base}/drafts/{draft_id}/report")
        expect(page.locator("#report-unpublished")).to_be_visible()
        page.get_by_label(t("Introduction")).fill("感谢各位的参与。我们逐条研究了收到的意见，现将采纳情况说明如下。")
        page.get_by_role("button", name=t("Publish")).click()
        expect(page.get_by_text(t("The report is published."))).to_be_visible()
        staff.check("report-published")

        # A reader opens the published report on the same screen.
        page, t = reader.page, reader.t
        reader.log_out()
        reader.open(f"{base}/drafts/{draft_id}/report")
        expect(page.locator("#report-participants")).to_have_text("2")
        expect(page.locator("#report-adopted")).to_contain_text(reader.pattern("%(num)d group"))
        expect(page.get_by_text("已在第六条增加按照批准的时段开采、接受监督的规定。")).to_be_visible()
        reader.check("report")
    finally:
        reader.close()
        staff.close()
