"""What the user may change on a live session: the format of requests, the dial-plan region
and whether the server takes spaces around a URI's colon (the local checks follow both).

One object shared by the session's parts, so ``session.format = "xml"`` reaches the next
request whichever part sends it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ucwa_nb.protocol.representation import Format
from ucwa_nb.protocol.rules import LENIENT_URI_SPACING

__all__ = ["Preferences"]


@dataclass
class Preferences:
    format: Format = "json"
    region: str = "US"  # the dial plan that local phone-number checks use
    lenient_uri_spacing: bool = LENIENT_URI_SPACING  # "tel : +1..." passes the local checks
