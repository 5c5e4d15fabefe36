"""The notebooks' forms in a real JupyterLab, driven through Chromium as a person would use them.

Three scenarios: addPhoneAudio from the quick start; continuePhoneAudio in XML, and a number
that cannot be normalised sent anyway, both in a small notebook the fixture writes. The form's
controls are found by their visible descriptions ("Your phone", "Send", ...); its status pills
are ``role="status"``. Each scenario leaves a screenshot of its end state in test-artifacts/.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Locator, expect

from .conftest import (
    CALL_TIMEOUT_MS,
    DOCS,
    MY_PHONE,
    SCRATCH_NOTEBOOK,
    JupyterLabPage,
    badge,
    button_named,
    line_with,
    preview,
    save_end_state,
    see_it_connect,
    timeline,
)

pytestmark = pytest.mark.browser


def send_and_see_it_connect(form: Locator) -> None:
    """Click Send; see the 201, then connected (``see_it_connect``)."""
    button_named(form, "Send").click()
    see_it_connect(form)


def test_quickstart_add_phone_audio(jupyterlab: JupyterLabPage) -> None:
    notebook = jupyterlab.open("01-quickstart.ipynb")
    form = notebook.form(notebook.run_through("AddPhoneAudioForm(session)"))

    form.get_by_label("Conversation", exact=True).select_option(
        value="Project sync with John Doe")  # John answers
    form.get_by_label("To (SIP URI)").fill("sip:john@contoso.com")
    form.get_by_label("Your phone").fill(MY_PHONE)
    # The kernel has the values once the preview shows them: only then is Send meaningful.
    expect(preview(form)).to_contain_text(f'"phoneNumber":"{MY_PHONE}"')
    expect(preview(form)).to_contain_text('"to":"sip:john@contoso.com"')
    expect(badge(form, "ready to send")).to_be_visible()

    send_and_see_it_connect(form)

    save_end_state(jupyterlab.page, form, "browser-1-quickstart-add-phone-audio")
    if os.environ.get("UCWA_NB_UPDATE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        form.screenshot(path=DOCS / "form.png")


def test_quickstart_form_sends_after_run_all(jupyterlab: JupyterLabPage) -> None:
    # Run All is what most people do first: the code cells below the form place their own
    # calls, yet the form, untouched, still sends and the call connects.
    notebook = jupyterlab.open("01-quickstart.ipynb")
    notebook.run_all()
    form = notebook.form(notebook.cell_with("AddPhoneAudioForm(session)"))
    expect(badge(form, "ready to send")).to_be_visible()
    send_and_see_it_connect(form)
    # Connected: the link is gone, and the form no longer says it is ready to send.
    expect(form).to_contain_text("addPhoneAudio is not offered right now")
    expect(badge(form, "ready to send")).to_have_count(0)
    save_end_state(jupyterlab.page, form, "browser-1b-quickstart-after-run-all")
    # A learner hangs up from the form, and calls again from it.
    button_named(form, "Hang up").click()
    expect(badge(form, "ready to send")).to_be_visible(timeout=CALL_TIMEOUT_MS)
    expect(button_named(form, "Hang up")).to_be_hidden()
    send_and_see_it_connect(form)


def test_continue_phone_audio_in_xml(jupyterlab: JupyterLabPage) -> None:
    notebook = jupyterlab.open(SCRATCH_NOTEBOOK)
    form = notebook.form(notebook.run_through("ContinuePhoneAudioForm(session)"))

    logs = form.get_by_label("Conversation log", exact=True)
    # The log with John (who answers); its label goes on with the date, so pick by prefix.
    john = logs.locator('option[value^="Weekly one-to-one with John Doe"]').get_attribute("value")
    assert john is not None
    logs.select_option(value=john)
    button_named(form, "xml").click()
    expect(preview(form)).to_contain_text("Content-Type: application/xml")
    expect(preview(form)).to_contain_text(
        '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">')
    expect(preview(form)).to_contain_text("/continuePhoneAudio")
    expect(badge(form, "ready to send")).to_be_visible()

    send_and_see_it_connect(form)

    save_end_state(jupyterlab.page, form, "browser-2-continue-phone-audio-xml")


def test_unnormalisable_number_sent_anyway(jupyterlab: JupyterLabPage) -> None:
    notebook = jupyterlab.open(SCRATCH_NOTEBOOK)
    form = notebook.form(notebook.run_through("AddPhoneAudioForm(session)"))
    send = button_named(form, "Send")

    form.get_by_label("Your phone").fill("555")
    # Refused locally first: the form says why and will not send...
    expect(form.get_by_role("listitem").filter(has_text="phoneNumber")).to_contain_text(
        "cannot be normalised")
    expect(send).to_be_disabled()
    # ... until "Send anyway" is ticked, to see what the server says.
    form.get_by_label("Send anyway").check()
    expect(send).to_be_enabled()
    expect(preview(form)).to_contain_text('"phoneNumber":"555"')

    send.click()
    answer = line_with(form, "error")
    expect(answer).to_contain_text("400 BadRequest/NormalizationFailed")
    # The server's own message, from the error body (not the local check's wording).
    expect(answer).to_contain_text("The phone normalization failed")
    expect(badge(form, "201 Created")).to_have_count(0)
    expect(timeline(form)).to_have_count(0)

    save_end_state(jupyterlab.page, form, "browser-3-normalization-failed")
