"""The pieces the widgets share: badges, error texts, guarded callbacks, pretty bodies."""

from __future__ import annotations

import logging
import threading

import httpx
import ipywidgets as w
import pytest

from ucwa_nb.client.errors import DiscoveryError, UcwaError, ValidationError
from ucwa_nb.widgets._common import (
    BAD,
    OK,
    WidgetLock,
    badge,
    describe_exception,
    guarded,
    pre,
    pretty_body,
)

REQUEST = httpx.Request("GET", "http://127.0.0.1:1/ucwa")


def test_badge_is_an_escaped_status_pill_in_theme_colours() -> None:
    html = badge("<b>failed</b> & co", BAD)
    assert 'role="status"' in html
    assert "var(--jp-error-color1" in html  # follows the JupyterLab theme (light and dark)
    assert "&lt;b&gt;failed&lt;/b&gt; &amp; co" in html
    assert "<b>" not in html
    assert "var(--jp-success-color1" in badge("ok", OK)


def test_pre_escapes_its_text() -> None:
    html = pre('<input xmlns="x"/> & "quotes"')
    assert html.startswith("<pre ")
    assert html.endswith("</pre>")
    assert "&lt;input xmlns=&quot;x&quot;/&gt; &amp; &quot;quotes&quot;" in html


@pytest.mark.parametrize(("exc", "expected"), [
    pytest.param(UcwaError(409, "Conflict", "AlreadyExists", "Already there."),
                 "409 Conflict/AlreadyExists: Already there.", id="ucwa"),
    pytest.param(ValidationError({"to": "not a SIP URI"}),
                 "invalid input (to: not a SIP URI)", id="validation"),
    pytest.param(DiscoveryError("sign-in refused: 400 invalid_grant"),
                 "Sign-in failed: sign-in refused: 400 invalid_grant", id="discovery"),
    pytest.param(httpx.ConnectError("[Errno 111] Connection refused", request=REQUEST),
                 "Cannot reach the server", id="connect"),
    pytest.param(httpx.ReadTimeout("timed out", request=REQUEST),
                 "The server did not answer in time.", id="timeout"),
    pytest.param(httpx.RemoteProtocolError("peer closed", request=REQUEST),
                 "Network error: RemoteProtocolError: peer closed", id="network"),
    pytest.param(RuntimeError("boom"), "Unexpected error: RuntimeError: boom", id="other"),
])
def test_describe_exception_says_what_happened_without_a_traceback(
        exc: Exception, expected: str) -> None:
    text = describe_exception(exc)
    assert expected in text
    assert "Traceback" not in text


def test_guarded_shows_the_exception_instead_of_raising() -> None:
    shown: list[BaseException] = []

    @guarded(shown.append)
    def handler(value: int, *, factor: int = 2) -> int:
        """Doc kept."""
        if value < 0:
            raise ValueError("negative")
        return value * factor

    assert handler.__name__ == "handler"
    assert handler.__doc__ == "Doc kept."
    handler(3, factor=5)
    assert shown == []
    handler(-1)
    assert len(shown) == 1
    assert isinstance(shown[0], ValueError)
    assert str(shown[0]) == "negative"


def test_guarded_does_not_hide_keyboard_interrupt() -> None:
    @guarded(lambda exc: None)
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()


def test_a_guarded_button_callback_shows_its_error(caplog: pytest.LogCaptureFixture) -> None:
    status = w.HTML()
    button = w.Button(description="Go")

    def show(exc: BaseException) -> None:
        status.value = describe_exception(exc)

    def broken(_: w.Button) -> None:
        raise RuntimeError("handler broke")

    button.on_click(guarded(show)(broken))
    with caplog.at_level(logging.WARNING):
        button.click()
    assert status.value == "Unexpected error: RuntimeError: handler broke"
    # Nothing reached ipywidgets' own handler, which would only log it.
    assert "Exception in callback" not in caplog.text


def test_pretty_body_indents_json_and_keeps_non_ascii() -> None:
    assert pretty_body('{"a":[1,"é"]}') == '{\n  "a": [\n    1,\n    "é"\n  ]\n}'
    assert pretty_body(' [1]\n') == "[\n  1\n]"


def test_pretty_body_indents_xml() -> None:
    body = ('<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            '<property name="to">sip:john@contoso.com</property></input>')
    assert pretty_body(body).splitlines() == [
        '<?xml version="1.0" ?>',
        '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">',
        '  <property name="to">sip:john@contoso.com</property>',
        "</input>",
    ]


@pytest.mark.parametrize("body", [
    pytest.param("{not json", id="bad-json"),
    pytest.param("<a><b></a>", id="bad-xml"),
    pytest.param('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                 '<!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>', id="entities"),
    pytest.param("plain text", id="text"),
])
def test_pretty_body_shows_anything_else_as_it_is(body: str) -> None:
    assert pretty_body(body) == body  # never expanded, never an exception


def test_pretty_body_of_nothing_is_empty() -> None:
    assert pretty_body(None) == ""
    assert pretty_body("") == ""


def test_widget_lock_applies_traits_together_and_one_thread_at_a_time() -> None:
    lock = WidgetLock()
    dropdown = w.Dropdown(options=["a"])
    lock.apply(dropdown, options=["a", "b", "c"], value="c")  # options first, then the pick
    assert (dropdown.options, dropdown.value) == (("a", "b", "c"), "c")
    # Re-entrant: an observer of a change made under the lock takes it again.
    echo = w.HTML()
    dropdown.observe(lambda change: lock.apply(echo, value=change["new"]), "value")
    lock.apply(dropdown, value="b")
    assert echo.value == "b"
    # Held by one thread, another waits for it.
    entered = threading.Event()

    def pick_a() -> None:
        lock.apply(dropdown, value="a")
        entered.set()

    with lock:
        waiter = threading.Thread(target=pick_a)
        waiter.start()
        assert not entered.wait(0.2)
        assert dropdown.value == "b"
    waiter.join(5)
    assert entered.is_set()
    assert dropdown.value == "a"
