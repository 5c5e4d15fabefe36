"""TEMPORARY, not committed: screenshots of every notebook after Run All, light and dark."""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, Lab
from .test_accessibility import switch_theme, theme_restored  # noqa: F401

pytestmark = pytest.mark.browser
NOTEBOOKS = ["01-quickstart", "02-add-phone-audio", "03-continue-phone-audio", "04-errors",
             "05-event-channel", "06-log-analysis", "07-real-server", "08-classroom"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_look(theme_restored: None, lab: Lab, name: str) -> None:  # noqa: F811
    notebook = lab.open(f"{name}.ipynb")
    notebook.run_all()
    ARTIFACTS.mkdir(exist_ok=True)
    page = lab.page
    for theme in ("light", "dark"):
        if theme == "dark":
            switch_theme(page, "JupyterLab Dark")
        cells = notebook.panel.locator(".jp-Cell")
        count = cells.count()
        for start in range(0, count, 6):
            cells.nth(start).scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            page.screenshot(path=ARTIFACTS / f"look-{name}-{theme}-{start:02d}.png")
    switch_theme(page, "JupyterLab Light")
