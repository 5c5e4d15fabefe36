"""What the user may change on a live session: the format of requests and the dial-plan region.

One object shared by the session's parts, so ``session.format = "xml"`` reaches the next
request whichever part sends it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ucwa_nb.protocol.representation import Format

__all__ = ["Preferences"]


@dataclass
class Preferences:
    format: Format = "json"
    region: str = "US"  # the dial plan that local phone-number checks use
