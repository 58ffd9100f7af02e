"""Reaching the site menu's items in the browser tests as a person does."""


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
