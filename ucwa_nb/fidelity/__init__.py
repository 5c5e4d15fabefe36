"""How two recordings of UCWA differ, protocol-aware: ``compare(a, b)`` (``comparison.py``)
over the items of each (``items.py``). Reads logs, DataFrames and HARs through
``ucwa_nb.record``; never imports the client or the simulator."""

from __future__ import annotations

from ucwa_nb.fidelity.comparison import Comparison, compare

__all__ = ["Comparison", "compare"]
