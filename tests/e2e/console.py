"""The operator's side of the console journeys: a super admin in Network Admin, then the console.

`OperatorConsole` drives the console's own forms in the browser (what the journeys test);
`Shots` numbers the screenshots of a whole module in one folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.wordpress.harness import WordPressNetwork


@dataclass
class Shots:
    """Numbered full-page screenshots in one folder, across the tests of a module."""

    folder: Path
    count: int = 0
    taken: dict[str, Path] = field(default_factory=dict)

    def __call__(self, page: Any, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken[name] = path
        return path


@dataclass
class OperatorConsole:
    """A super admin of the network with the console open in their own browser page."""

    network: WordPressNetwork
    bridge_url: str
    page: Any

    def open_from_network_admin(self) -> None:
        """Log into wp-admin as the super admin and press the plugin's console button."""
        page = self.page
        page.goto(f"{self.network.url}wp-login.php")
        page.fill("#user_login", self.network.admin_user)
        page.fill("#user_pass", self.network.admin_password)
        page.click("#wp-submit")
        page.wait_for_selector("#wpadminbar")
        page.goto(f"{self.network.url}wp-admin/network/settings.php?page=plan-bridge")
        page.click("#plan-bridge-console [type=submit]")
        page.wait_for_url(f"{self.bridge_url}/admin/")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.bridge_url}/admin{path}")

    def save_with_reason(self, reason: str) -> None:
        """Fill the reason under an impact preview and press Save (the page redirects)."""
        self.page.fill("#reason", reason)
        with self.page.expect_navigation():
            self.page.click("button[name=confirm][value=save]")

    def preview_product(self, pid: str, fields: dict[str, str]) -> None:
        """Change fields of a product's edit form and show the impact of saving them."""
        self.goto(f"/products/{pid}")
        for key, value in fields.items():
            self.page.fill(f"#{key}", value)
        with self.page.expect_navigation():
            self.page.click("button[name=confirm][value=preview]")

    def edit_product(self, pid: str, fields: dict[str, str], reason: str) -> None:
        self.preview_product(pid, fields)
        self.save_with_reason(reason)
        self.page.wait_for_url(f"{self.bridge_url}/admin/products/{pid}")

    def field(self, pid: str, key: str) -> str:
        """A field of a product as its edit form shows it."""
        self.goto(f"/products/{pid}")
        return str(self.page.input_value(f"#{key}"))

    def preview_groups(self, groups: dict[str, tuple[str, int]]) -> None:
        """Type each plan's group and order (plans left out get no group) and preview them."""
        self.goto("/groups")
        for row in self.page.locator("input[name^=group-]").all():
            pid = str(row.get_attribute("name")).removeprefix("group-")
            group, order = groups.get(pid, ("", 0))
            row.fill(group)
            self.page.fill(f"#order-{pid}", str(order))
        with self.page.expect_navigation():
            self.page.click("button[name=confirm][value=preview]")

    def offered_in_picture(self, source: str) -> set[str]:
        """The plans the picture draws an arrow to from `source` (any billing option)."""
        targets = self.page.locator(f"#picture g.path[data-from='{source}']").evaluate_all(
            "els => els.map(e => e.dataset.to)"
        )
        return {str(t) for t in targets} - {source}

    def retire(self, pid: str, reason: str) -> None:
        self.goto(f"/products/{pid}")
        with self.page.expect_navigation():
            self.page.click("form[action$='/retire'] button")
        self.save_with_reason(reason)
        self.page.wait_for_url(re.compile(r".*/admin/products$"))


def price_plus(price: str, units: int) -> str:
    """'60.00' plus 5 units is '65.00' (the catalog's decimal strings)."""
    whole, _, cents = price.partition(".")
    return f"{int(whole) + units}.{cents or '00'}"
