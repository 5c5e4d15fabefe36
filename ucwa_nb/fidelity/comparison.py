"""``compare(a, b)``: a protocol-aware difference between two recordings of UCWA, as a
DataFrame, an HTML view and one figure, the share of compared items that agree.

For the simulator against a user's own server (its fidelity score), or one server before and
after an upgrade. Every item of either recording (``items.py``) is one row: its value in
each, and whether they agree (equal; timings within a tolerance). An item one recording has
and the other lacks disagrees: a link only one server shows is a difference.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ucwa_nb.fidelity.items import Item, items_of
from ucwa_nb.record.recording import Recording, Source

__all__ = ["Comparison", "compare"]

_ASPECTS = ("resource", "operation", "channel", "error", "server", "timing")


def _agree(a: Item | None, b: Item | None, tolerance: float) -> bool:
    if a is None or b is None:
        return False
    if a.tolerance and isinstance(a.value, float) and isinstance(b.value, float):
        return abs(a.value - b.value) <= max(tolerance, tolerance * max(a.value, b.value))
    return bool(a.value == b.value)


class Comparison:
    """The result of ``compare``: ``df`` (one row per item), ``score``, ``differences``."""

    def __init__(self, df: pd.DataFrame, names: tuple[str, str]) -> None:
        self.df = df
        self.names = names

    @property
    def score(self) -> float:
        """The share of compared items that agree (1.0: no difference found)."""
        return float(self.df.agree.mean()) if len(self.df) else 1.0

    @property
    def differences(self) -> pd.DataFrame:
        """The rows that do not agree."""
        return self.df[~self.df.agree].reset_index(drop=True)

    def by_aspect(self) -> pd.DataFrame:
        """Items and agreement per aspect (resource, operation, channel, ...)."""
        grouped = self.df.groupby("aspect", observed=True).agree
        return pd.DataFrame({"items": grouped.size(), "agree": grouped.sum(),
                             "score": grouped.mean().round(3)})

    def __repr__(self) -> str:
        return (f"<Comparison {self.names[0]} vs {self.names[1]}: {len(self.df)} items, "
                f"score {self.score:.3f}, {len(self.differences)} differences>")

    def _repr_html_(self) -> str:
        a, b = (html.escape(name) for name in self.names)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_shown(value))}</td>" for value in
                             (row.aspect, row.subject, row.item, row.a, row.b)) + "</tr>"
            for row in self.differences.itertuples())
        table = (f"<table><thead><tr><th>aspect</th><th>subject</th><th>item</th><th>{a}</th>"
                 f"<th>{b}</th></tr></thead><tbody>{rows}</tbody></table>"
                 if rows else "<p>No difference.</p>")
        return (f"<div><p><b>Fidelity {self.score:.3f}</b>: {int(self.df.agree.sum())} of "
                f"{len(self.df)} items agree between {a} and {b}.</p>{table}</div>")


def _shown(value: Any) -> str:
    return "(absent)" if value is None or value is pd.NA else str(value)


def compare(a: Source | Recording, b: Source | Recording, *,
            names: tuple[str, str] = ("a", "b"), tolerance: float = 0.5) -> Comparison:
    """Compare two recordings (HAR paths, ExchangeLogs, their DataFrames): see the module
    docstring. ``tolerance``: timings agree within this many seconds or this share of the
    longer one, whichever is more."""
    items = [x if isinstance(x, Recording) else Recording(x, name=name)
             for x, name in zip((a, b), names, strict=True)]
    left, right = (items_of(recording) for recording in items)
    keys = sorted(set(left) | set(right),
                  key=lambda k: (_ASPECTS.index(k[0]) if k[0] in _ASPECTS else 99, k))
    rows = [{"aspect": key[0], "subject": key[1], "item": key[2],
             "a": left[key].value if key in left else None,
             "b": right[key].value if key in right else None,
             "agree": _agree(left.get(key), right.get(key), tolerance)} for key in keys]
    df = pd.DataFrame(rows, columns=["aspect", "subject", "item", "a", "b", "agree"])
    df["aspect"] = pd.Categorical(df.aspect, categories=list(_ASPECTS))
    df["agree"] = df.agree.astype(bool)
    return Comparison(df, names)
