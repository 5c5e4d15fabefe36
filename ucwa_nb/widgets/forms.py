"""ipywidgets forms for the operations that start a call: addPhoneAudio, continuePhoneAudio
and startPhoneAudio, each built from its definition (``ucwa_nb.protocol.operations``).

The forms hold no protocol logic: an input row per field of the operation (its help as the
tooltip), the exact request asked of the Session (``draft`` while typing, ``prepare`` before
sending), shown, sent, and the returned PhoneAudioCall followed, with buttons for the
operations on it (``call_controls.py``). Sending is one short POST on the caller's thread;
progress then arrives from the event thread through ``PhoneAudioCall.on_change``, so the
kernel is never blocked.

Threads: the kernel's (observers, buttons), the event thread (progress) and the form's own
short-lived threads (links read again after an event) all change the form; they do so under
the form's ``WidgetLock`` (``_common.py``), and never hold it over a request.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.operations import (
    ADD_PHONE_AUDIO,
    CONTINUE_PHONE_AUDIO,
    START_PHONE_AUDIO,
    OperationSpec,
)
from ucwa_nb.client.session import PreparedCall, Session
from ucwa_nb.client.views import Conversation
from ucwa_nb.display.timeline import call_timeline_html
from ucwa_nb.widgets._common import (
    BAD,
    INFO,
    MUTED,
    OK,
    WARN,
    WidgetLock,
    badge,
    describe_exception,
    guarded,
    pre,
)
from ucwa_nb.widgets.call_controls import CallControls
from ucwa_nb.widgets.inputs import (
    STYLE,
    WIDE,
    input_widget,
    problems_html,
    rows_of,
    summary_of,
    values_of,
)

__all__ = ["CLOSED_SESSION", "AddPhoneAudioForm", "ContinuePhoneAudioForm", "OperationForm",
           "StartPhoneAudioForm"]

# What a form on a signed-out session says instead of httpx's "client has been closed".
CLOSED_SESSION = "this session is closed: run the first cell again"

def _conversations(session: Session) -> list[tuple[str, Any]]:
    return [(c.label, c) for c in session.conversations()]


def _conversation_logs(session: Session) -> list[tuple[str, Any]]:
    return [(log.label, log) for log in session.conversation_logs()]


# What a form lists to pick from, by what its operation is reached from (the spec's
# ``reached_from``): a conversation, a conversation log, or nothing (communication).
_PICKERS: dict[str, tuple[str, Callable[[Session], list[tuple[str, Any]]]]] = {
    "conversation": ("Conversation", _conversations),
    "conversationLog": ("Conversation log", _conversation_logs),
}


class OperationForm(w.VBox):  # type: ignore[misc]
    """A form for any operation that starts a call, built from its definition:
    ``OperationForm(session, spec)``. Its input rows are the spec's fields; what it lists to
    pick from follows from what the operation is reached from (conversations, conversation
    logs, or nothing for communication). The named forms below fix the operation."""

    operation: OperationSpec

    @property
    def kind(self) -> str:
        """The operation's rel."""
        return self.operation.rel

    def __init__(self, session: Session, operation: OperationSpec | None = None) -> None:
        if operation is not None:
            self.operation = operation
        if not self.operation.creates_call:
            raise ValueError(f"{self.operation.rel} does not start a call: its button is on "
                             "a form's call controls")
        self._picker_label, self._list = _PICKERS.get(self.operation.reached_from,
                                                      ("", lambda _: []))
        self.session = session
        self.call: PhoneAudioCall | None = None
        self.prepared: PreparedCall | None = None
        self._url: str | None = None  # the operation's link for the current pick
        self._ui = WidgetLock()
        show = guarded(self._show_error)
        self.picker = w.Dropdown(description=self._picker_label, layout=WIDE, style=STYLE)
        self.refresh = w.Button(description="Refresh", icon="refresh",
                                tooltip="Reload the list from the server" if self._picks
                                else f"Ask the server again whether {self.kind} is offered",
                                layout=w.Layout(width="100px"))
        self.inputs: dict[str, w.Widget] = {}  # by argument name; each also an attribute
        for input_field in self.operation.fields:
            self.inputs[input_field.argument] = input_widget(input_field, session)
            setattr(self, input_field.argument, self.inputs[input_field.argument])
        self.regenerate = w.Button(description="New id", icon="random",
                                   tooltip="Generate a new operationId",
                                   layout=w.Layout(width="100px"))
        self.format = w.ToggleButtons(description="Format", options=["json", "xml"],
                                      value=session.format, style=STYLE,
                                      tooltips=["application/json", "application/xml"])
        self.messages = w.HTML()
        self.send_anyway = w.Checkbox(description="Send anyway, even if invalid (to see the "
                                                  "server's answer)", indent=False,
                                      layout=w.Layout(width="auto"))
        self.send = w.Button(description="Send", button_style="primary", icon="phone",
                             tooltip=f"POST {self.kind}")
        self.preview = w.HTML()
        self.snippets = w.Accordion(children=[w.HTML(), w.HTML()], titles=("curl", "Python"))
        self.snippets.selected_index = None
        self.response = w.HTML()
        self.progress = w.HTML()
        self.call_controls = CallControls(self._ui, acted=self._acted, show_error=self._show_error)
        self.timeline = w.HTML()
        self.errors = w.Output()
        super().__init__(children=[
            # Where the form sends (host and user, never a secret): on a hub, the account
            # the environment signed in as.
            w.HTML(f"<b>{self.kind}</b> <span style='color:{MUTED}'>as "
                   f"{html.escape(session.where)}</span>"),
            w.HBox([self.picker, self.refresh] if self._picks else [self.refresh]),
            *rows_of(self.operation, self.inputs, self.regenerate),
            self.format,
            self.messages,
            w.HBox([self.send, self.send_anyway]),
            w.HTML(f"<span style='color:{MUTED}'>Request preview</span>"),
            self.preview,
            self.snippets,
            self.response,
            self.progress,
            self.call_controls,
            self.timeline,
            self.errors,
        ])
        self.refresh.on_click(show(lambda _: self.reload()))
        self.regenerate.on_click(show(self._new_id))
        self.send.on_click(show(lambda _: self.submit()))
        for control in (*self.inputs.values(), self.format, self.send_anyway):
            control.observe(show(lambda _: self.update()), "value")
        self.picker.observe(show(lambda _: self._picked()), "value")
        show(self.reload)()

    @property
    def _picks(self) -> bool:
        return bool(self._picker_label)

    # ------------------------------------------------------------------ the request

    def _values(self) -> dict[str, str | None]:
        return values_of(self.operation, self.inputs)

    def _draft(self) -> PreparedCall:
        """The request for the current input, to the link of the current pick; no network."""
        return self.session.draft(self.operation, self._url or "(no link)",
                                  format=self.format.value, **self._values())

    def _problems(self) -> dict[str, str]:
        return dict(self._draft().problems)

    def _prepare(self) -> PreparedCall:
        return self.session.prepare(self.operation, self.picker.value if self._picks else None,
                                    format=self.format.value, **self._values())

    # ------------------------------------------------------------------ behaviour

    def __repr__(self) -> str:
        # Short and stable: nbval compares a displayed widget's text/plain repr.
        return f"{type(self).__name__}()"

    def summary(self) -> str:
        """The form as a few lines of text: the operation, who sends it, the pick and the
        input typed so far (not the operationId, which is new for every form). Stable for a
        scenario, and never a secret."""
        who = self.session.me.get("uri") if self.session.me is not None else None
        pick = (self._picker_label, self.picker.label or "(nothing to pick)") \
            if self._picks else None
        return summary_of(f"{type(self).__name__}: {self.kind}"
                          + (f" as {who}" if who else ""), self.operation, self.inputs, pick,
                          self.format.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The widget's text/plain is what shows where the widget cannot be drawn: a
        # notebook's stored outputs before Run All, nbviewer, a terminal. ipywidgets puts the
        # repr there, cut to 110 characters.
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()
        return bundle

    def _show_error(self, exc: BaseException) -> None:
        if self.session.closed:  # whatever failed, that is the reason and the remedy
            self._show_closed()
            return
        self._respond(badge("error", BAD) + " " + html.escape(describe_exception(exc)))

    def _show_closed(self) -> None:
        self._respond(badge("not sent", WARN) + " " + html.escape(CLOSED_SESSION))

    def _respond(self, content: str) -> None:
        # One span: the HTML widget lays its children out as flex items, so a bare badge,
        # text and <code> would wrap onto separate lines.
        self._ui.apply(self.response, value=f"<span>{content}</span>")

    def _new_id(self, _: object = None) -> None:
        self.inputs["operation_id"].value = self.session.new_operation_id()

    def reload(self) -> None:
        """Fetch the conversations (or logs) again from the server; pick the first one where
        the operation is offered now (after Run All, the first may be in a call already)."""
        if self.session.closed:
            self._show_closed()
            return
        if self._picks:
            options = self._list(self.session)
            self.picker.options = options
            if options:
                offered = (value for _, value in options
                           if self.session.offered_link(self.operation, value) is not None)
                self.picker.value = next(offered, options[0][1])
        self._picked()

    def _recheck_link(self) -> None:
        """Ask the server again whether the operation is offered for the pick (a call just
        started or ended there), so the form does not say "ready to send" to a stale link."""
        if not self.session.closed and (self.picker.value is not None or not self._picks):
            self._picked()

    def _picked(self) -> None:
        """Read the pick's link (a GET, outside the lock), then draw with it."""
        picked = self.picker.value if self._picks else None
        url = None
        if picked is not None or not self._picks:
            url = self.session.offered_link(self.operation, picked)
        with self._ui:
            if self._picks and self.picker.value is not picked:
                return  # picked again meanwhile: that pick's own reading draws
            self._url = url
            if isinstance(picked, Conversation) and "to" in self.inputs:
                self._suggest(picked)
            self.update()

    def _suggest(self, conversation: Conversation) -> None:
        to = self.inputs["to"]
        suggestions = [p.uri for p in conversation.participants if p.uri]
        # `to` follows the pick while it holds our own suggestion (it used to stick: picking
        # "Budget review" kept John from "Project sync"); a value the user typed is kept.
        follows = not to.value or to.value == getattr(self, "_suggested", "")
        self._suggested = suggestions[0] if suggestions else ""
        self._ui.apply(to, options=suggestions,
                       **({"value": self._suggested} if follows else {}))

    def update(self) -> None:
        """Re-validate and re-draw the preview; runs on every keystroke (no network), and
        from other threads, so under the form's lock: one update draws at a time."""
        with self._ui:
            problems = self._problems()
            if self._picks and self.picker.value is None:
                problems["picker"] = (f"nothing to pick: {self._picker_label.lower()} list is "
                                      "empty")
            elif self._url is None:
                where = "for this pick (a call is in progress there: hang it up, pick " \
                        "another, or Refresh later)" if self._picks else "(Refresh later)"
                problems["link"] = f"{self.kind} is not offered right now {where}"
            self._show_problems(problems)
            self.send.disabled = bool(problems) and not self.send_anyway.value
            self._draw_preview()

    def _show_problems(self, problems: dict[str, str]) -> None:
        self._ui.apply(self.messages, value=problems_html(problems))

    def _draw_preview(self) -> None:
        prepared = self._draft()
        for shown, text in zip((self.preview, *self.snippets.children),
                               (prepared.preview(), prepared.curl(), prepared.python()),
                               strict=True):
            self._ui.apply(shown, value=pre(text))

    def submit(self) -> PhoneAudioCall | None:
        """What the Send button does: prepare afresh (links may have changed), then POST."""
        if self.session.closed:
            self._show_closed()
            return None
        self._respond(badge("sending", INFO))
        if self._picks and self.picker.value is None:
            # An empty list: there is no link to send to, even with "send anyway" (this used
            # to end in "Unexpected error: AttributeError" from prepare(None)).
            self.update()
            self._respond(badge("not sent", WARN) + html.escape(
                f" nothing to send to: the {self._picker_label.lower()} list is empty "
                "(Refresh to load it again)"))
            return None
        prepared = self._prepare()
        self.prepared = prepared
        if prepared.problems and not self.send_anyway.value:
            with self._ui:
                self.update()
                # Show what prepare found too: some problems are only known from the server
                # (the link is gone while phone audio is connected); update() alone showed
                # "ready to send" next to "not sent".
                self._show_problems({**self._problems(), **prepared.problems})
            self._respond(badge("not sent", WARN) + " fix the input or tick 'Send anyway'")
            return None
        # Only now: a request that is not sent leaves the last call's progress on show.
        with self._ui:
            self._ui.apply(self.progress, value="")
            self._ui.apply(self.timeline, value="")
        try:
            call = prepared.send()
        except Exception as exc:
            self._show_error(exc)
            return None
        with self._ui:
            self.call = call
            self.call_controls.follow(call)
            self._respond(badge(f"{call.http_status} Created", OK) + " Location: "
                          f"<code>{html.escape(call.location or '')}</code>")
        # Guarded: PhoneAudioCall drops a listener's exception on the event thread, so
        # without this a failure to draw progress was lost (not shown, not logged).
        call.on_change(guarded(self._show_error)(self._on_call_change))
        self._on_call_change(call)
        self._new_id()
        # The call holds the link now (addPhoneAudio is gone while phone audio connects).
        self._recheck_link()
        return call

    def _on_call_change(self, call: PhoneAudioCall) -> None:
        # Runs on the event thread: draws what the call holds, no request (the links are
        # read again on a thread of their own).
        if call.status == "Success":
            colour = OK
        elif call.status == "Failure":
            colour = BAD
        else:
            colour = INFO
        with self._ui:
            if call is not self.call:
                return  # an earlier call of this form: its news would hide the current one
            self._ui.apply(self.progress, value=badge(call.progress, colour))
            self._ui.apply(self.timeline, value=call_timeline_html(call))
        threading.Thread(target=guarded(self._show_error)(self._read_links),
                         args=(call.done,), name="ucwa-nb form link check",
                         daemon=True).start()

    def _read_links(self, done: bool) -> None:
        self.call_controls.read()
        if done:
            # The outcome changes what is offered (a failed call frees the conversation, a
            # connected one keeps it).
            self._recheck_link()

    def _acted(self, rel: str) -> None:
        """After a call control: say so, and read the pick's link again (hanging up frees
        the conversation for the next call)."""
        self._respond(badge("sent", OK) + f" {html.escape(rel)}")
        self._recheck_link()


class AddPhoneAudioForm(OperationForm):
    """Pick a conversation and a person; add phone audio to it by call-via-work."""

    operation = ADD_PHONE_AUDIO


class ContinuePhoneAudioForm(OperationForm):
    """Pick a past conversation; call its recipient again by call-via-work."""

    operation = CONTINUE_PHONE_AUDIO


class StartPhoneAudioForm(OperationForm):
    """Call someone in a new conversation by call-via-work (startPhoneAudio, on
    communication: nothing to pick)."""

    operation = START_PHONE_AUDIO
