"""How the browser tests walk the site as a person does: reaching the menu's items, and a walk at one width that
checks each step (no sideways scroll, no console error) and keeps a screenshot of it in test-results/screenshots/
(ignored by git)."""
from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def menu_item(page, role: str, name: str):
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


class Walk:
    """One browser page at one width (Chinese), checked after every step."""

    def __init__(self, browser, width: int, height: int, name: str):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        self.page, self.width, self.name, self.steps = self.context.new_page(), width, name, 0
        self.errors = watch_console(self.page)

    def check(self, step: str) -> None:
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width, step
        assert self.errors == [], step
        self.steps += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.width}-{self.steps:02d}-{step}.png"))

    def close(self) -> None:
        self.context.close()
