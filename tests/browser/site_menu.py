"""How the browser tests walk the site as a person does: reaching the menu's items, and a walk at one width in one
language that checks each step (no sideways scroll, no console error, no serious accessibility violation) and keeps
a screenshot of it in test-results/screenshots/ (ignored by git)."""
import re
from functools import cache
from pathlib import Path

from babel.support import Translations

from tests.browser.accessibility import serious_violations
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-results" / "screenshots"
BROWSER_LOCALES = {"zh_Hans": "zh-CN", "en": "en-GB"}


def menu_item(page, role: str, name):
    """A link or button of the site menu, as a person reaches it: on a phone the menu opens first (菜单), and staff
    tools sit behind 工作台."""
    page.wait_for_load_state()  # menu.js has run: before it, the toggle is hidden and the menu open
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    target = page.locator("#site-menu").get_by_role(role, name=name, exact=True).first
    staff = page.locator(".staff-menu")
    if staff.count() and not target.is_visible():
        staff.locator("summary").click()
    return target


def watch_console(page) -> list[str]:
    """The page's console errors and uncaught exceptions, collected as they happen."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@cache
def _catalog(language: str):
    return Translations.load(str(ROOT / "translations"), [language])


class Walk:
    """One browser page at one width in one language, checked after every step.

    Tests name what a person reads by the interface's English wording (the message ids); ``t`` gives the words
    the page shows in the walk's language, from the same compiled catalogue the site uses."""

    def __init__(self, browser, width: int, height: int, name: str, language: str = "zh_Hans"):
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           locale=BROWSER_LOCALES[language])
        self.page, self.width, self.language, self.steps = self.context.new_page(), width, language, 0
        self.name = name if language == "zh_Hans" else f"{name}-{language}"
        self.errors = watch_console(self.page)

    def t(self, message: str) -> str:
        """``message`` as the page shows it in this walk's language."""
        return message if self.language == "en" else _catalog(self.language).gettext(message)

    def pattern(self, message: str) -> re.Pattern:
        """``message`` in this walk's language with each placeholder (%(name)s) matching any text."""
        pieces = re.split(r"%\(\w+\)[sd]", self.t(message))
        return re.compile(".+?".join(re.escape(piece) for piece in pieces))

    def open(self, url: str) -> None:
        """Go to ``url`` and, the first time, choose the walk's language with the switch in the header (the site
        speaks Chinese until asked, whatever the browser prefers)."""
        self.page.goto(url)
        if self.language == "en" and self.page.locator("html").get_attribute("lang") != "en":
            menu_item(self.page, "button", "English").click()
            assert self.page.locator("html").get_attribute("lang") == "en"

    def log_in(self, base: str, username: str, password: str = PASSWORD) -> None:
        self.open(f"{base}/accounts/login")
        self.page.get_by_label(self.t("Username")).fill(username)
        self.page.get_by_label(self.t("Password")).fill(password)
        self.page.get_by_role("button", name=self.t("Log in")).click()

    def log_out(self) -> None:
        menu_item(self.page, "button", self.t("Log out")).click()

    def check(self, step: str, refused: int | None = None) -> None:
        """The page as it is now: no sideways scroll, no console error, no serious or critical axe violation;
        then a screenshot of the first screen. ``refused``: the page is the site's answer to a refused form with
        that status, which Chromium logs as a failed load (the only console error allowed, once)."""
        self.page.wait_for_load_state()
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width, step
        if refused:
            expected = f"Failed to load resource: the server responded with a status of {refused}"
            assert sum(error.startswith(expected) for error in self.errors) == 1, (step, self.errors)
            self.errors[:] = [error for error in self.errors if not error.startswith(expected)]
        assert self.errors == [], step
        assert serious_violations(self.page) == [], step
        self.steps += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.width}-{self.steps:02d}-{step}.png"))

    def close(self) -> None:
        self.context.close()
