"""``ucwa_nb.explain(x)``: the doctor on whatever the user has at hand.

A ``Session`` (its log), an ``ExchangeLog``, its DataFrame, a ``PhoneAudioCall`` or the path
of a HAR file (ucwa-nb's own, a browser's or Fiddler's) becomes a record
(``ucwa_nb.doctor.sources``) that the rules read (``ucwa_nb.doctor.core``). The answer is a
``Diagnosis``: a table of findings, silent on a clean run.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import pandas as pd

from ucwa_nb.doctor.core.diagnosis import Diagnosis, diagnose
from ucwa_nb.doctor.core.record import Record
from ucwa_nb.doctor.sources import ExplainError, from_call, from_frame, from_har, from_log
from ucwa_nb.log.exchange_log import ExchangeLog

__all__ = ["explain"]


def _record(x: Any) -> Record:
    if isinstance(x, Record):
        return x
    if isinstance(x, ExchangeLog):
        return from_log(x)
    if isinstance(x, pd.DataFrame):
        return from_frame(x)
    if isinstance(x, str | PathLike):
        return from_har(x)
    log = getattr(x, "log", None)  # a Session (the client is not imported by the doctor)
    if isinstance(log, ExchangeLog):
        return from_log(log)
    if isinstance(getattr(x, "operation_id", None), str) and hasattr(x, "events"):
        return from_call(x)  # a PhoneAudioCall
    raise ExplainError(f"cannot explain a {type(x).__name__}: give a Session, an ExchangeLog, "
                       "its DataFrame, a PhoneAudioCall or the path of a HAR file")


def explain(x: Any, *, operation_id: str | None = None) -> Diagnosis:
    """Why a call or a session failed, in UCWA's terms: a table of findings (rule, rows by
    ``seq``, cause, what to do, reference page). ``operation_id`` keeps the findings about
    that operation. Bad input raises ``ExplainError`` with a message that says why."""
    diagnosis = diagnose(_record(x))
    if operation_id is None:
        return diagnosis
    kept = tuple(f for f in diagnosis if f.operation_id == operation_id)
    return Diagnosis(kept, diagnosis.rows, diagnosis.note)
