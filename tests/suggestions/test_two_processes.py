"""Two serving processes on one database and one folder of saved similarity indexes, as gunicorn runs them: what
one publishes, the other's typing hints and proposal pages show at once, whatever the order the proposals became
public in (each process maps the campaign's saved index and tops it up in its own memory; a proposal published
after screening, or unhidden, has an id below ones already indexed)."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.extensions import db
from suggestions import services
from tests.factories import PASSWORD, make_body, make_campaign, make_staff, make_suggestion, make_user

ROOT = Path(__file__).resolve().parents[2]
PARKING = ("锦绣华庭小区停车难，建议增设停车位",
           "锦绣华庭小区车位严重不足，晚上很多车只能停在消防通道上，存在安全隐患，建议利用小区东侧空地建设立体停车场。")
PARKING_AGAIN = ("建议在锦绣华庭小区增设停车位",
                 "锦绣华庭小区车位严重不足，很多车晚上只能停在消防通道上，有安全隐患，建议利用东侧空地建立体停车场。")
NOISE = ("人民路夜市噪音扰民", "人民路夜市每天营业到凌晨两点，噪音很大，附近居民无法休息，建议规范夜市的营业时间。")


def serve(database_url: str, tmp_path: Path, name: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JIANYAN_DATABASE_URL": database_url, "JIANYAN_SECRET_KEY": "two-processes",
           "JIANYAN_SEARCH_INDEX_DIR": str(tmp_path / f"index-{name}"), "JIANYAN_RATELIMIT_ENABLED": "false",
           "JIANYAN_ROUTER_DIR": str(tmp_path / "router"),
           "JIANYAN_SIMILARITY_INDEX_DIR": str(tmp_path / "similarity")}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                "app:create_app()"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/", timeout=10)  # the first page may wait for jieba on a busy machine
            return process, url
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting on a busy machine
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGTERM)  # never leave a server behind
    raise AssertionError(f"server {name} did not start")


def logged_in(url: str, username: str, password: str = PASSWORD) -> requests.Session:
    browser = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(url + "/accounts/login").text).group(1)
    response = browser.post(url + "/accounts/login", data={"csrf_token": token, "username": username,
                                                           "password": password}, allow_redirects=False)
    assert response.status_code == 303
    return browser


def post_form(browser: requests.Session, url: str, page: str, data: dict) -> requests.Response:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(page).text).group(1)
    return browser.post(url, data={"csrf_token": token, **data}, allow_redirects=False)


def hints(url: str, campaign_id: int, text: tuple[str, str]) -> list[int]:
    return [hit["id"] for hit in requests.get(url + "/suggestions/similar", headers={"X-Requested-With": "fetch"},
                                              params={"campaign": campaign_id, "title": text[0],
                                                      "body": text[1]}).json()["similar"]]


@pytest.fixture
def two_servers(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    servers = [serve(url, tmp_path, name) for name in ("a", "b")]
    yield [server_url for _, server_url in servers]
    for process, _ in servers:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)


def test_one_process_sees_at_once_what_the_other_published(app, tmp_path, request):
    body = make_body()
    campaign = make_campaign(body, screening=True)
    staff, moderator = make_staff(body), make_user(role="moderator")
    held = make_suggestion(campaign, title=PARKING[0], body=PARKING[1])  # awaits screening: the lowest id
    noise = make_suggestion(campaign, title=NOISE[0], body=NOISE[1])
    services.publish_suggestion(staff, noise)
    db.session.flush()
    campaign_id, held_id, staff_name, moderator_name = campaign.id, held.id, staff.username, moderator.username
    db.session.commit()
    db.session.close()  # the servers write to the same database: this test holds no transaction open
    first, second = request.getfixturevalue("two_servers")

    assert hints(first, campaign_id, PARKING_AGAIN) == []  # the first process builds its index now
    staff_browser = logged_in(second, staff_name)
    held_page = f"{second}/suggestions/{held_id}"
    assert post_form(staff_browser, f"{held_page}/publish", held_page, {}).status_code == 303
    assert hints(first, campaign_id, PARKING_AGAIN) == [held_id]

    response = post_form(logged_in(second, make_citizen(second), "a-long-password"), f"{second}/suggestions/new/{campaign_id}",
                         f"{second}/suggestions/new/{campaign_id}", {"title": PARKING_AGAIN[0], "body": PARKING_AGAIN[1],
                                                                     "category": "transport", "message_type": "suggestion"})
    later_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert post_form(staff_browser, f"{second}/suggestions/{later_id}/publish", f"{second}/suggestions/{later_id}",
                     {}).status_code == 303
    moderator_browser = logged_in(second, moderator_name)
    assert post_form(moderator_browser, f"{held_page}/hide", held_page, {"hide-reason": "含个人信息"}).status_code == 303
    assert held_id not in hints(first, campaign_id, PARKING_AGAIN)
    assert post_form(moderator_browser, f"{held_page}/unhide", held_page, {}).status_code == 303
    assert held_id in hints(first, campaign_id, PARKING_AGAIN)  # unhidden: back in the other process' hints
    page = requests.get(f"{first}/suggestions/{held_id}").text  # its related proposals, stored by the other
    assert f'href="/suggestions/{later_id}"' in page


def make_citizen(url: str) -> str:
    """Register a citizen through the page; returns the username."""
    browser = requests.Session()
    assert post_form(browser, f"{url}/accounts/register", f"{url}/accounts/register", {
        "username": "second_citizen", "password": "a-long-password", "confirm": "a-long-password"}
    ).status_code == 303
    return "second_citizen"
