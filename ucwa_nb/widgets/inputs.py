"""A form's input rows, one per field of an operation's definition, and the values typed in
them: the label, the tooltip (the field's help) and the kind of widget follow from the field."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as w

from ucwa_nb.client.session import Session
from ucwa_nb.protocol.operations import InputField, OperationSpec
from ucwa_nb.widgets._common import OK, WARN, badge

__all__ = ["STYLE", "WIDE", "input_widget", "label", "problems_html", "rows_of", "summary_of",
           "values_of"]

WIDE = w.Layout(width="520px")
STYLE = {"description_width": "130px"}
# Short labels for the fields the forms have always shown; any other field is labelled from
# its argument name (thread_id: "Thread id").
_LABELS = {"to": "To (SIP URI)", "phoneNumber": "Your phone", "operationId": "Operation id"}
_UNSET = "(not set)"


def label(field: InputField) -> str:
    """The row's label: a short one for the fields the forms have always shown, else from the
    argument name (thread_id: "Thread id")."""
    return _LABELS.get(field.name) or field.argument.replace("_", " ").capitalize()


def input_widget(field: InputField, session: Session) -> w.Widget:
    """The widget a form shows for ``field``: a Dropdown when the field has choices, a
    Combobox for ``to`` (the form suggests the picked conversation's participants), a Text
    otherwise; the operationId starts with a fresh id, phoneNumber shows the default one."""
    common: dict[str, Any] = {"description": label(field), "layout": WIDE, "style": STYLE,
                              "tooltip": field.help}
    if field.name == "operationId":
        return w.Text(value=session.new_operation_id(), **common)
    if field.choices:
        return w.Dropdown(options=[(_UNSET, ""), *((c, c) for c in field.choices)], value="",
                          **common)
    if field.name == "to":
        return w.Combobox(placeholder="sip:john@contoso.com", ensure_option=False, **common)
    if field.name == "phoneNumber":
        return w.Text(placeholder=session.default_phone_number or "tel:+1...", **common)
    return w.Text(**common)


def values_of(operation: OperationSpec, inputs: Mapping[str, w.Widget]) -> dict[str, str | None]:
    """The input by the operation's argument names: required fields and the operationId as
    typed (the server judges them as sent), optional ones when not blank."""
    values: dict[str, str | None] = {}
    for field in operation.fields:
        value = inputs[field.argument].value
        as_typed = field.required or field.name == "operationId"
        values[field.argument] = value if as_typed else (value.strip() or None)
    return values


def summary_of(title: str, operation: OperationSpec, inputs: Mapping[str, w.Widget],
               pick: tuple[str, str] | None, fmt: str) -> str:
    """A form as text (its text/plain, where it cannot be drawn): ``title``, then the pick,
    each field typed so far but the operationId (new for every form), and the format."""
    rows: list[tuple[str, str]] = [pick] if pick is not None else []
    rows += [(label(f), str(inputs[f.argument].value)) for f in operation.fields
             if f.name != "operationId" and inputs[f.argument].value]
    rows.append(("Format", fmt))
    return "\n".join([title + " (run the cell to use the form)",
                      *(f"  {name + ':':<18} {value}" for name, value in rows)])


def problems_html(problems: Mapping[str, str]) -> str:
    """What is wrong with the input, field by field (escaped), or "ready to send"."""
    if not problems:
        return badge("ready to send", OK)
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                    for k, v in problems.items())
    return f"<ul style='color:{WARN};margin:0'>{items}</ul>"


def rows_of(operation: OperationSpec, inputs: Mapping[str, w.Widget],
            new_id: w.Button) -> list[w.Widget]:
    """A form's input rows: required fields first (what must be filled in), then the others
    as defined, and the operationId last with its ``new_id`` button."""
    fields = sorted(operation.fields, key=lambda f: not f.required)
    rows = [inputs[f.argument] for f in fields if f.name != "operationId"]
    if "operation_id" in inputs:
        rows.append(w.HBox([inputs["operation_id"], new_id]))
    return rows
