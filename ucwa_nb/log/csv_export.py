"""CSV exports a spreadsheet opens safely: no cell is read as a formula.

A server chooses much of what a log holds (an error's ``code`` and ``subcode``, a Location,
a body, an event's reason), and so does anyone who can write into a HAR file that is loaded.
Excel, LibreOffice and Google Sheets read a CSV cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula: ``=cmd|' /C calc'!A0`` in a code cell runs a
program when the trainee opens the file (CSV injection). As OWASP's CSV Injection guidance
says, such a cell is written with a single quote in front, which spreadsheets show as text;
the quoting of commas, quotes and line breaks is the csv writer's. Rows end in CRLF, as RFC
4180 says: Python's csv writer quotes a cell that holds any character of the row ending, so
a cell with a lone carriage return is quoted too (with pandas' default "\n" it was not, and a
reader took it for the end of a row, letting a cell start a new row with a formula).

Only text cells are changed, and only in the file: the DataFrame (``ExchangeLog.df``) keeps
the server's exact text, and a number (``-1.5`` in a numeric column) is no formula. Every CSV
that ucwa-nb writes goes through ``write_csv`` (``ExchangeLog.to_csv``, LogView's button).
"""

from __future__ import annotations

from os import PathLike
from typing import Any, Final

import pandas as pd

__all__ = ["FORMULA_STARTS", "formula_safe", "write_csv"]

FORMULA_STARTS: Final = frozenset("=+-@\t\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP)."""


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells that start a formula begin with ``'`` instead;
    numeric, date and categorical columns (values we chose) are left as they are."""
    safe = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:
            # map keeps the dtype of a string column and its missing values (pd.NA).
            safe[name] = column.map(_safe_cell, na_action="ignore").astype(column.dtype)
    return safe


def write_csv(frame: pd.DataFrame, path: str | PathLike[str]) -> None:
    """``frame`` as UTF-8 CSV (RFC 4180: CRLF rows) without its index, each formula cell
    neutralised."""
    formula_safe(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")
