"""Issue 4 in a real JupyterLab: the AddPhoneAudioForm reads in the light and the dark theme,
every control has a name, and a call can be placed with the keyboard alone.

Readability is measured, not looked at: for each piece of text of the form (labels, inputs,
status pills, the timeline, ...) the page computes the WCAG contrast ratio between the text's
colour and the background it is drawn on (the first ancestor with an opaque background, with
any translucent ones between composited over it), in the light theme and then in the dark
one. WCAG 2 AA asks 4.5:1 of text, 3:1 of large text (24 px, or 18.66 px bold).

The dark theme is switched on through the Settings menu, as a person would. The theme is a
user setting of the server that all the browser tests share, so ``theme_restored`` puts the
setting file back as it was once the page is closed; ``JupyterLabPage.open`` checks that
every test starts in the light theme, whatever the order. The call is placed on a simulator
of its own (the scratch notebook's last cell), so that John's conversation stays free for
the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import (
    MY_PHONE,
    SCRATCH_NOTEBOOK,
    JupyterLabPage,
    JupyterServer,
    badge,
    button_named,
    preview,
    save_end_state,
    see_it_connect,
)

pytestmark = pytest.mark.browser

# Where JupyterLab keeps the theme setting, under the server's user settings directory.
THEME_SETTINGS = Path("@jupyterlab", "apputils-extension", "themes.jupyterlab-settings")

# The text of the form, by kind, as CSS selectors inside the form.
TEXT = {
    "label": ".widget-label, .widget-label-basic",  # descriptions, the checkbox's included
    "input": "input:not([type=checkbox]), select, textarea",
    "status pill": "[role=status]",
    "timeline": ".ucwa-nb-timeline > div, .ucwa-nb-timeline text",  # header, SVG labels
    # The title, the request preview, the Location line.
    "other text": "b, pre, code, .widget-html-content > span:not([role=status])",
    "button": "button",  # ipywidgets' own colours, but part of what a person reads
    "warning": "li",  # the problems the form found before sending
    # Not measured: the headers of the snippets' Accordion ("curl", "Python"), ipywidgets'
    # own grey on grey (4.45:1 light, 4.24:1 dark when this was written).
}
CONNECTED = [kind for kind in TEXT if kind != "warning"]  # what a connected call's form shows
NOT_OFFERED = ["status pill", "warning"]  # after the call connected: why Send is disabled

# One synchronous function (no promise, so it cannot hang; Locator.evaluate bounds the wait
# for the form itself). Colours go through a 1x1 canvas, which turns any CSS colour (rgb(),
# rgba(), the color(srgb ...) that color-mix() computes to) into RGBA bytes.
CONTRAST_JS = """
(root, kinds) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0, 0, 0, 0)";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, below) =>
    [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const background = (el) => {
    const layers = [];
    for (let node = el; node instanceof Element; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    // Under the page there is the browser's white canvas.
    return layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255, 1]);
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) =>
    0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const hex = (c) =>
    "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const found = [];
  for (const [kind, selector] of Object.entries(kinds)) {
    for (const el of root.querySelectorAll(selector)) {
      if (el.getClientRects().length === 0) continue;  // not shown (a closed accordion)
      const style = getComputedStyle(el);
      const bg = background(el);
      const fg = over(rgba(el instanceof SVGElement ? style.fill : style.color), bg);
      const [light, dark] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      found.push({
        kind, text: (el.matches("input, select, textarea") ? el.value : el.textContent)
          .trim().slice(0, 40),
        colour: hex(fg), background: hex(bg), ratio: (light + 0.05) / (dark + 0.05),
        size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10),
      });
    }
  }
  return found;
}
"""


class Measured(TypedDict):
    kind: str
    text: str
    colour: str
    background: str
    ratio: float
    size: float
    weight: int


def required_ratio(item: Measured) -> float:
    large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
    return 3.0 if large else 4.5


def check_contrast(form: Locator, theme: str, kinds: list[str]) -> None:
    """Each kind of text is in the form, and every piece of it reaches WCAG AA contrast."""
    measured: list[Measured] = form.evaluate(CONTRAST_JS, {kind: TEXT[kind] for kind in kinds})
    missing = set(kinds) - {item["kind"] for item in measured}
    assert not missing, f"{theme} theme: nothing found for {sorted(missing)}"
    poor = [f"{item['kind']} {item['text']!r}: {item['ratio']:.2f} < "
            f"{required_ratio(item)} ({item['colour']} on {item['background']})"
            for item in measured if item["ratio"] < required_ratio(item)]
    assert not poor, f"{theme} theme, too little contrast:\n" + "\n".join(poor)
    for kind in kinds:  # seen with -s
        lowest = min((item for item in measured if item["kind"] == kind),
                     key=lambda item: item["ratio"])
        print(f"{theme}: lowest {kind}: {lowest['ratio']:.2f} {lowest['text']!r} "
              f"({lowest['colour']} on {lowest['background']})")


def switch_theme(page: Page, name: str) -> None:
    """Settings > Theme > ``name``; back once the theme is applied and the splash gone."""
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    # Lumino gives a submenu's item no menuitem role: found by its class and label.
    page.locator(".lm-Menu-item[data-type=submenu]").filter(
        has_text=re.compile(r"^Theme$")).click()
    page.get_by_role("menuitem", name=name, exact=True).click()
    # JupyterLab saves the setting, loads the theme's CSS, then names it on <body>...
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", name)
    # ... and takes away the splash screen it showed meanwhile.
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


def tab_to(page: Page, target: Locator, most: int = 5) -> None:
    """Press Tab until ``target`` has the focus, at most ``most`` times."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} not reached in {most} presses of Tab")


def next_control(page: Page, control: Locator) -> None:
    """Tab, and see the focus land on ``control``."""
    page.keyboard.press("Tab")
    expect(control).to_be_focused()


@pytest.fixture
def theme_restored(jupyter_server: JupyterServer) -> Iterator[None]:
    """Put the server's theme setting back as it was after the test.

    Requested before ``jupyterlab``, so that this runs once the page is closed and can save no
    setting any more. (JupyterLab saves the setting before it applies the theme, so a test
    that saw its theme applied left no save in flight either.)
    """
    path = jupyter_server.dirs["settings"] / THEME_SETTINGS
    saved = path.read_bytes() if path.exists() else None
    try:
        yield
    finally:
        if saved is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(saved)


def test_form_by_keyboard_and_readable_in_light_and_dark(
        theme_restored: None, jupyterlab: JupyterLabPage) -> None:
    page = jupyterlab.page
    notebook = jupyterlab.open(SCRATCH_NOTEBOOK)
    cell = notebook.run_through("AddPhoneAudioForm(own_session)")
    form = notebook.form(cell)

    # Every control has a name to be announced by (its description, or its text).
    controls = form.locator("input, select, textarea, button")
    # 4 fields, 5 buttons (2 toggles), 1 checkbox, and the 4 call controls (Hang up, Hold,
    # Resume, Cancel: in the page but hidden until a call offers them).
    expect(controls).to_have_count(14)
    for control in controls.all():
        if control.is_visible():  # a hidden one is out of the accessibility tree
            expect(control).to_have_accessible_name(re.compile(r"\w"))

    # The keyboard alone. Shift+Enter left the caret in a new cell below the form: Escape
    # leaves its editor, ArrowUp selects the form's cell, Tab enters the form's output (the
    # cell's toolbar may come first).
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowUp")
    expect(cell).to_be_focused()
    tab_to(page, form.get_by_label("Conversation", exact=True))  # John's, the first
    # Then one Tab per control, in the order they are shown.
    next_control(page, button_named(form, "Refresh"))
    next_control(page, form.get_by_label("To (SIP URI)"))
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("sip:john@contoso.com")
    next_control(page, form.get_by_label("Your phone"))
    page.keyboard.type(MY_PHONE)
    # The kernel has the values once the preview shows them: only then is Send meaningful.
    expect(preview(form)).to_contain_text(f'"phoneNumber":"{MY_PHONE}"')
    expect(preview(form)).to_contain_text('"to":"sip:john@contoso.com"')
    expect(badge(form, "ready to send")).to_be_visible()
    send = button_named(form, "Send")
    for control in (form.get_by_label("Operation id"), button_named(form, "New id"),
                    button_named(form, "json"), button_named(form, "xml"), send):
        next_control(page, control)
    page.keyboard.press("Enter")
    see_it_connect(form)
    # The connected call's controls appear, each named.
    for name in ("Hang up", "Hold"):
        expect(button_named(form, name)).to_be_visible()
        expect(button_named(form, name)).to_have_accessible_name(re.compile(name))

    # Readable, in the light theme and then in the dark one: every text of the form, the
    # green and blue of the pills and the timeline included.
    check_contrast(form, "light", CONNECTED)
    switch_theme(page, "JupyterLab Dark")
    check_contrast(form, "dark", CONNECTED)
    save_end_state(page, form, "browser-4-keyboard-dark-theme")
    # Phone audio is connected now, so the form offers no second call: Send is disabled and
    # the list of problems says why, in the orange of warnings; readable in the dark theme
    # and in the light one, which the page is left in.
    expect(send).to_be_disabled()
    expect(form.get_by_role("listitem")).to_contain_text("addPhoneAudio is not offered right now")
    check_contrast(form, "dark", NOT_OFFERED)
    switch_theme(page, "JupyterLab Light")
    check_contrast(form, "light", NOT_OFFERED)
