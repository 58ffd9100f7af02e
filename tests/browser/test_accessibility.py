"""WCAG 2.1 AA with axe-core on the pages citizens and staff meet, in both languages, at 375 px and 1280 px: no
serious or critical violation, no sideways scroll."""
import pytest

from accounts import regions
from core.extensions import db
from demo.catalogue import DIVISIONS
from editions.services import create_edition
from suggestions import services
from suggestions.related import store_related
from tests.browser.accessibility import serious_violations
from tests.browser.site_menu import menu_item
from tests.browser.test_moderation import log_in
from tests.conftest import BROWSER
from tests.factories import make_body, make_campaign, make_staff, make_suggestion

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_pages_have_no_serious_accessibility_violations(app, live_server, browser):
    regions.load_divisions(DIVISIONS)  # the demo's fictional province, and a local edition in it
    create_edition(None, code="990100", name="临川市人民建议征集平台", short_name="临川", colour="#2e6b3a")
    body = make_body("青溪县交通运输局")
    campaign = make_campaign(body, title="青溪县道路交通安全隐患征集")
    campaign.support_threshold = 5
    replied = make_suggestion(campaign, title="建议在人民路口增设行人过街信号灯",
                              body="人民路与解放路交叉口车流量大，老人和学生过马路很危险，建议增设行人过街信号灯。")
    variant = make_suggestion(campaign, title="人民路口过马路危险，建议加装信号灯",
                              body="人民路和解放路交叉口车很多，老人学生过马路十分危险，建议加装行人过街信号灯。")
    staff = make_staff(body, "staff_zhao")
    services.accept_suggestion(staff, replied)
    services.reply_to_suggestion(staff, replied, decision="adopted", content="您好！已列入今年交通设施改造计划。")
    db.session.commit()
    store_related(variant)
    db.session.commit()
    public_pages = ["/", "/campaigns/", f"/campaigns/{campaign.id}", f"/suggestions/{replied.id}",
                    f"/suggestions/{variant.id}", "/search/?q=信号灯", "/analytics/", "/analytics/report",
                    "/outcomes/", "/suggestions/timeliness", "/open-data/", "/accounts/login", "/accounts/register",
                    "/r/", "/r/990100/", "/r/990100/proposals"]
    staff_pages = ["/suggestions/inbox", f"/suggestions/{variant.id}", "/accounts/settings", "/api/tokens/"]
    staff_name = staff.username
    db.session.close()
    base = live_server.url

    found = []
    for width, height in ((375, 812), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        for language in ("zh", "en"):
            if language == "en":
                page.goto(base + "/")
                menu_item(page, "button", "English").click()
            for path in public_pages:
                page.goto(base + path)
                found += [f"{width}px {language} {path}: {v}" for v in serious_violations(page)]
                if page.evaluate("document.documentElement.scrollWidth") > width:
                    found.append(f"{width}px {language} {path}: scrolls sideways")
        page.goto(base + "/")
        menu_item(page, "button", "简体中文").click()
        log_in(page, base, staff_name)
        for path in staff_pages:
            page.goto(base + path)
            found += [f"{width}px staff {path}: {v}" for v in serious_violations(page)]
            if page.evaluate("document.documentElement.scrollWidth") > width:
                found.append(f"{width}px staff {path}: scrolls sideways")
        # The check itself sees a violation when there is one: an image without a text alternative.
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/favicon.ico\">')")
        assert any(v.startswith("image-alt") for v in serious_violations(page))
        context.close()
    assert found == []
