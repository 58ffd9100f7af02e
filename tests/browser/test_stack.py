"""The newcomer's journey through the production layout (bench/stack.py): nginx in front of two gunicorn app
servers, one job worker and cron, on a fresh PostgreSQL database with the search tables, and Redis for the jobs,
rate limits and page cache. Register, submit a proposal, support another, search after the vote and find the new
proposal, which only the job worker indexes. Then: both app servers served the newcomer (one session, signed with
the shared key, holds across them), the worker ran the placement and indexing jobs, and no job failed."""
import os
import re
import urllib.request

import pytest

from bench.stack import ADMIN_URL, NGINX, running_stack
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.site_menu import menu_item
from tests.conftest import BROWSER, CHROMIUM, POSTGRES_URL, REQUIRED

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not BROWSER, reason="browser suite not enabled (JIANYAN_TEST_BROWSER=1)")]
TITLE = "建议在青溪大道北段增设路灯"


@pytest.fixture(scope="module")
def stack():
    if not os.path.exists(NGINX):
        message = f"nginx is needed for the stack test ({NGINX}; apt-get install nginx)"
        if "browser" in REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    # The stack's database is created next to the PostgreSQL suite's (or on the local server's postgres database).
    with running_stack(proposals=300, admin_url=POSTGRES_URL or ADMIN_URL) as running:
        yield running


def _upstreams(access_log: str) -> set[str]:
    """The app servers nginx handed requests to (not counting the start-up's /readyz)."""
    found = set()
    for line in access_log.splitlines():
        match = re.search(r'"(?:GET|POST) (\S+) [^"]*" \d+ (\S+)', line)
        if match and match.group(1) != "/readyz" and match.group(2) != "-":
            found.add(match.group(2))
    return found


def test_the_newcomer_journey_runs_through_nginx_two_app_servers_and_the_worker(stack, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base = stack.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN").new_page()
        statuses = []
        page.on("response", lambda response: statuses.append((response.status, response.url)))

        page.goto(f"{base}/accounts/register")
        page.get_by_label("用户名").fill("newcomer_wang")
        page.get_by_label("密码", exact=True).fill("a-newcomer-password")
        page.get_by_label("确认密码").fill("a-newcomer-password")
        page.get_by_role("button", name="注册账号").click()
        expect(page.get_by_text("欢迎您")).to_be_visible()

        page.goto(f"{base}/campaigns/")
        page.get_by_role("link", name="青溪县道路交通安全隐患征集").first.click()
        campaign_url = page.url
        page.get_by_role("link", name="提出建议").first.click()
        page.get_by_label("标题").fill(TITLE)
        page.get_by_label("内容").fill("青溪大道北段晚上没有路灯，行人和电动车看不清路，去年冬天发生过两次事故，建议尽快增设路灯并定期检修。")
        page.locator("#category").select_option(index=1)
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        own = page.url

        page.goto(campaign_url)
        others = page.locator(f".suggestion-row a[href^='/suggestions/']:not([href='{own[len(base):]}'])")
        others.first.click()
        page.get_by_role("button", name="支持", exact=True).click()
        expect(page.get_by_text("您已支持这条建议。")).to_be_visible()

        for word in ("学校", "停车"):
            page.goto(base + "/")
            menu_item(page, "searchbox", "搜索建议").fill(word)
            menu_item(page, "button", "搜索").click()
            expect(page.locator(".search-hits li").first).to_be_visible()
            expect(page.locator(".search-hits mark").first).to_have_text(word)
        # The new proposal reaches the index through the job worker: search until it is there (a minute at most).
        page.goto(base + "/search/?q=" + urllib.request.quote("路灯 青溪大道"))
        for _ in range(60):
            if page.get_by_role("link", name=TITLE).count():
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(page.get_by_role("link", name=TITLE)).to_be_visible()
        page.get_by_role("link", name=TITLE).click()
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        assert page.url == own
        browser.close()

    assert [s for s in statuses if s[0] >= 500] == []
    # nginx spread the newcomer's requests over both app servers, and each logged requests of its own.
    assert _upstreams(stack.log("nginx-access")) == {u.removeprefix("http://") for u in stack.app_urls}
    for name in ("app-1", "app-2"):
        assert re.search(r"POST /|GET /suggestions/", stack.log(name)), stack.log(name)[-2000:]
    # The worker, not the app servers, placed and indexed the new proposal; no job failed or was left waiting.
    worker_log = stack.log("worker")
    assert "suggestions.clustering.place_proposal" in worker_log, worker_log[-3000:]
    assert "search.indexing.drain_search_queue" in worker_log, worker_log[-3000:]
    status = stack.flask("jobs", "status")
    assert "workers: 1" in status, status
    assert re.findall(r"(\d+) failed", status) == ["0", "0"], status  # the default and batch queues
