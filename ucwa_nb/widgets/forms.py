"""ipywidgets forms for addPhoneAudio and continuePhoneAudio.

The forms hold no protocol logic: they collect input, ask the Session for the exact request
(``draft`` while typing, ``prepare_*`` before sending; both built from the operation's one
definition in ``ucwa_nb.client.operations``), show it, send it, and follow the returned
PhoneAudioCall. Sending is one
short POST on the caller's thread; progress then arrives from the event thread through
``PhoneAudioCall.on_change``, so the kernel is never blocked.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as w

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.operations import ADD_PHONE_AUDIO, CONTINUE_PHONE_AUDIO, OperationSpec
from ucwa_nb.client.session import PreparedCall, Session
from ucwa_nb.client.views import Conversation
from ucwa_nb.display.timeline import call_timeline_html
from ucwa_nb.widgets._common import (
    BAD,
    INFO,
    MUTED,
    OK,
    WARN,
    badge,
    describe_exception,
    guarded,
    pre,
)

__all__ = ["CLOSED_SESSION", "AddPhoneAudioForm", "ContinuePhoneAudioForm"]

# What a form on a signed-out session says instead of httpx's "client has been closed".
CLOSED_SESSION = "this session is closed: run the first cell again"

_WIDE = w.Layout(width="520px")
_STYLE = {"description_width": "130px"}


class _PhoneAudioForm(w.VBox):  # type: ignore[misc]
    operation: OperationSpec

    @property
    def kind(self) -> str:
        return self.operation.rel

    def __init__(self, session: Session) -> None:
        self.session = session
        self.call: PhoneAudioCall | None = None
        self.prepared: PreparedCall | None = None
        self._url: str | None = None  # the operation's link for the current pick
        # Progress is drawn from the event thread and, once, from submit(): reading the call
        # and drawing under one lock keeps an older state from overwriting a newer one.
        self._progress_lock = threading.Lock()
        self.picker = w.Dropdown(description=self._picker_label, layout=_WIDE, style=_STYLE)
        self.refresh = w.Button(description="Refresh", icon="refresh",
                                tooltip="Reload the list from the server",
                                layout=w.Layout(width="100px"))
        self.phone_number = w.Text(description="Your phone", layout=_WIDE, style=_STYLE,
                                   placeholder=session.default_phone_number or "tel:+1...")
        self.operation_id = w.Text(description="Operation id", layout=_WIDE, style=_STYLE,
                                   value=session.new_operation_id())
        self.regenerate = w.Button(description="New id", icon="random",
                                   tooltip="Generate a new operationId",
                                   layout=w.Layout(width="100px"))
        self.format = w.ToggleButtons(description="Format", options=["json", "xml"],
                                      value=session.format, style=_STYLE,
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
        self.timeline = w.HTML()
        self.errors = w.Output()
        super().__init__(children=[
            # Where the form sends (host and user, never a secret): on a hub, the account
            # the environment signed in as.
            w.HTML(f"<b>{self.kind}</b> <span style='color:{MUTED}'>as "
                   f"{html.escape(session.where)}</span>"),
            w.HBox([self.picker, self.refresh]),
            *self._target_rows(),
            self.phone_number,
            w.HBox([self.operation_id, self.regenerate]),
            self.format,
            self.messages,
            w.HBox([self.send, self.send_anyway]),
            w.HTML(f"<span style='color:{MUTED}'>Request preview</span>"),
            self.preview,
            self.snippets,
            self.response,
            self.progress,
            self.timeline,
            self.errors,
        ])
        self.refresh.on_click(guarded(self._show_error)(lambda _: self.reload()))
        self.regenerate.on_click(guarded(self._show_error)(self._new_id))
        self.send.on_click(guarded(self._show_error)(lambda _: self.submit()))
        for control in (self.phone_number, self.operation_id, self.format, self.send_anyway,
                        *self._target_rows()):
            control.observe(guarded(self._show_error)(lambda _: self.update()), "value")
        self.picker.observe(guarded(self._show_error)(lambda _: self._picked()), "value")
        guarded(self._show_error)(self.reload)()

    # ------------------------------------------------------------------ subclasses fill in

    _picker_label = ""

    def _target_rows(self) -> list[w.Widget]:
        return []

    def _load_options(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def _operation_url(self, picked: Any) -> str | None:
        return self.session.offered_link(self.operation, picked)

    def _values(self) -> dict[str, str | None]:
        """The input, by the operation's argument names."""
        return {"phone_number": self.phone_number.value.strip() or None,
                "operation_id": self.operation_id.value}

    def _draft(self) -> PreparedCall:
        """The request for the current input, to the link of the current pick; no network."""
        return self.session.draft(self.operation, self._url or "(no link)",
                                  format=self.format.value, **self._values())

    def _problems(self) -> dict[str, str]:
        return dict(self._draft().problems)

    def _prepare(self) -> PreparedCall:
        raise NotImplementedError

    # ------------------------------------------------------------------ behaviour

    def __repr__(self) -> str:
        # Short and stable: nbval compares a displayed widget's text/plain repr.
        return f"{type(self).__name__}()"

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
        self.response.value = f"<span>{content}</span>"

    def _new_id(self, _: object = None) -> None:
        self.operation_id.value = self.session.new_operation_id()

    def reload(self) -> None:
        """Fetch the conversations (or logs) again from the server; pick the first one where
        the operation is offered now (after Run All, the first may be in a call already)."""
        if self.session.closed:
            self._show_closed()
            return
        options = self._load_options()
        self.picker.options = options
        if options:
            offered = (value for _, value in options
                       if self.session.offered_link(self.operation, value) is not None)
            self.picker.value = next(offered, options[0][1])
        self._picked()

    def _recheck_link(self) -> None:
        """Ask the server again whether the operation is offered for the pick (a call just
        started or ended there), so the form does not say "ready to send" to a stale link."""
        if not self.session.closed and self.picker.value is not None:
            self._picked()

    def _picked(self) -> None:
        picked = self.picker.value
        self._url = self._operation_url(picked) if picked is not None else None
        self.update()

    def update(self) -> None:
        """Re-validate and re-draw the preview; runs on every keystroke (no network)."""
        problems = self._problems()
        if self.picker.value is None:
            problems["picker"] = f"nothing to pick: {self._picker_label.lower()} list is empty"
        elif self._url is None:
            problems["link"] = (f"{self.kind} is not offered right now for this pick (a call "
                                "is in progress there: pick another, or Refresh later)")
        self._show_problems(problems)
        self.send.disabled = bool(problems) and not self.send_anyway.value
        self._draw_preview()

    def _show_problems(self, problems: dict[str, str]) -> None:
        if problems:
            items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                            for k, v in problems.items())
            self.messages.value = f"<ul style='color:{WARN};margin:0'>{items}</ul>"
        else:
            self.messages.value = badge("ready to send", OK)

    def _draw_preview(self) -> None:
        prepared = self._draft()
        self.preview.value = pre(prepared.preview())
        self.snippets.children[0].value = pre(prepared.curl())
        self.snippets.children[1].value = pre(prepared.python())

    def submit(self) -> PhoneAudioCall | None:
        """What the Send button does: prepare afresh (links may have changed), then POST."""
        if self.session.closed:
            self._show_closed()
            return None
        self._respond(badge("sending", INFO))
        if self.picker.value is None:
            # An empty list: there is no link to send to, even with "send anyway" (this used
            # to end in "Unexpected error: AttributeError" from prepare_*(None)).
            self.update()
            self._respond(badge("not sent", WARN) + html.escape(
                f" nothing to send to: the {self._picker_label.lower()} list is empty "
                "(Refresh to load it again)"))
            return None
        prepared = self._prepare()
        self.prepared = prepared
        if prepared.problems and not self.send_anyway.value:
            self.update()
            # Show what prepare_* found too: some problems are only known from the server
            # (the link is gone while phone audio is connected); update() alone showed
            # "ready to send" next to "not sent".
            self._show_problems({**self._problems(), **prepared.problems})
            self._respond(badge("not sent", WARN) + " fix the input or tick 'Send anyway'")
            return None
        # Only now: a request that is not sent leaves the last call's progress on show.
        self.progress.value = self.timeline.value = ""
        try:
            call = prepared.send()
        except Exception as exc:
            self._show_error(exc)
            return None
        self.call = call
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
        # Runs on the event thread: only trait assignments here.
        with self._progress_lock:
            if call.status == "Success":
                colour = OK
            elif call.status == "Failure":
                colour = BAD
            else:
                colour = INFO
            self.progress.value = badge(call.progress, colour)
            self.timeline.value = call_timeline_html(call)
        if call.done and call is self.call:
            # The outcome changes what is offered (a failed call frees the conversation, a
            # connected one keeps it). A GET, so not on the event thread that called us.
            threading.Thread(target=guarded(self._show_error)(self._recheck_link),
                             name="ucwa-nb form link check", daemon=True).start()


class AddPhoneAudioForm(_PhoneAudioForm):
    """Pick a conversation and a person; add phone audio to it by call-via-work."""

    operation = ADD_PHONE_AUDIO
    _picker_label = "Conversation"

    def __init__(self, session: Session) -> None:
        self.to = w.Combobox(description="To (SIP URI)", layout=_WIDE, style=_STYLE,
                             placeholder="sip:john@contoso.com", ensure_option=False)
        self._suggested = ""  # the `to` the form filled in itself, from the participants
        super().__init__(session)

    def _target_rows(self) -> list[w.Widget]:
        return [self.to]

    def _load_options(self) -> list[tuple[str, Any]]:
        return [(c.label, c) for c in self.session.conversations()]

    def _operation_url(self, picked: Conversation) -> str | None:
        suggestions = [p.uri for p in picked.participants if p.uri]
        self.to.options = suggestions
        # `to` follows the pick while it holds our own suggestion (it used to stick: picking
        # "Budget review" kept John from "Project sync"); a value the user typed is kept.
        if not self.to.value or self.to.value == self._suggested:
            self._suggested = suggestions[0] if suggestions else ""
            self.to.value = self._suggested
        return super()._operation_url(picked)

    def _values(self) -> dict[str, str | None]:
        return {**super()._values(), "to": self.to.value}

    def _prepare(self) -> PreparedCall:
        return self.session.prepare_add_phone_audio(
            self.picker.value, self.to.value, self.phone_number.value.strip() or None,
            self.operation_id.value, self.format.value)


class ContinuePhoneAudioForm(_PhoneAudioForm):
    """Pick a past conversation; call its recipient again by call-via-work."""

    operation = CONTINUE_PHONE_AUDIO
    _picker_label = "Conversation log"

    def _load_options(self) -> list[tuple[str, Any]]:
        return [(log.label, log) for log in self.session.conversation_logs()]

    def _prepare(self) -> PreparedCall:
        return self.session.prepare_continue_phone_audio(
            self.picker.value, self.phone_number.value.strip() or None,
            self.operation_id.value, self.format.value)
