"""CallControls: the buttons that act on a form's call (Hang up, Hold, Resume, Cancel), one per
operation reached from the call's invitation (with a text box per input field, if it has
any), each shown only while its link is offered.

Which links are offered is read from the server (GETs through ``PhoneAudioCall
.offered_operations``): after each event of the call, on a thread the form starts (never on
the event thread, which must keep polling), and after each action, on the kernel's. Readings can
finish out of order, so each has a number and only the latest one started is drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.operations import OPERATIONS, OperationSpec
from ucwa_nb.widgets._common import WidgetLock, guarded

__all__ = ["CallControls"]

# A person's words for the operations on a call; an operation not named here shows its rel.
_LABELS = {"stopPhoneAudio": ("Hang up", "stop"), "holdPhoneAudio": ("Hold", "pause"),
           "resumePhoneAudio": ("Resume", "play"), "cancel": ("Cancel", "times")}
_HIDDEN = "none"


def _on_a_call(operation: OperationSpec) -> bool:
    return operation.reached_from == "phoneAudioInvitation"


class CallControls(w.HBox):  # type: ignore[misc]
    """A row of buttons for the operations on ``call``; hidden until its links are read."""

    def __init__(self, lock: WidgetLock, *, acted: Callable[[str], None],
                 show_error: Callable[[BaseException], None]) -> None:
        self._lock = lock
        self._show_error = show_error
        self._acted = acted
        self.call: PhoneAudioCall | None = None
        self._readings = 0  # numbers the readings of the links; only the latest is drawn
        self.buttons: dict[str, w.Button] = {}
        # An operation with input (say sendDtmf's tones) gets a text box per field beside
        # its button, shown and hidden with it: inputs[rel][argument].
        self.inputs: dict[str, dict[str, w.Text]] = {}
        self._groups: dict[str, w.HBox] = {}
        for operation in OPERATIONS.values():
            if not _on_a_call(operation):
                continue
            label, icon = _LABELS.get(operation.rel, (operation.rel, ""))
            button = w.Button(description=label, icon=icon,
                              tooltip=f"POST {operation.rel}: {operation.summary}",
                              layout=w.Layout(width="auto"))
            button.on_click(guarded(show_error)(
                lambda _, rel=operation.rel: self.perform(rel)))
            self.buttons[operation.rel] = button
            self.inputs[operation.rel] = {
                f.argument: w.Text(placeholder=f.argument, tooltip=f.help,
                                   layout=w.Layout(width="160px"))
                for f in operation.fields}
            self._groups[operation.rel] = w.HBox(
                [button, *self.inputs[operation.rel].values()],
                layout=w.Layout(display=_HIDDEN))
        super().__init__(children=list(self._groups.values()))

    @property
    def shown(self) -> tuple[str, ...]:
        """The rels whose buttons are on show, in the order of the row."""
        return tuple(rel for rel, group in self._groups.items()
                     if group.layout.display != _HIDDEN)

    def follow(self, call: PhoneAudioCall) -> None:
        """Control ``call`` from now on; its buttons appear when its links are read."""
        with self._lock:
            self.call = call
            self._readings += 1  # a reading for the previous call is not drawn
            self._draw(())

    def read(self) -> None:
        """Ask the server which operations the call offers now, and show just those. GETs:
        call it from the kernel's thread or a thread of its own, never the event thread's."""
        with self._lock:
            self._readings += 1
            reading, call = self._readings, self.call
        offered = call.offered_operations() if call is not None else ()
        with self._lock:
            if reading == self._readings:  # no later reading started meanwhile
                self._draw(offered)

    def perform(self, rel: str) -> None:
        """What a button does: the operation on the call, then the links read again."""
        if self.call is None:
            return
        self.call.perform(rel, **{name: box.value for name, box in self.inputs[rel].items()})
        self.read()
        self._acted(rel)

    def _draw(self, offered: tuple[str, ...]) -> None:
        for rel, group in self._groups.items():
            self._lock.apply(group.layout, display=None if rel in offered else _HIDDEN)
