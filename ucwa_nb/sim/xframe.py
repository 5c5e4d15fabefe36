"""The cross-domain frame page (xframe_ref.md: "Returns the cross-domain frame used for
web-based applications"), served at the root's ``xframe`` link and at the discovery host's
``/xframe``.

The page is ours, not Microsoft's: a small script (``xframe.js``) that speaks the postMessage
protocol of Cross_domainIFRAME.md, sends each request with XMLHttpRequest from the server's
origin, stamps it with ``X-Ms-Origin`` (the asking page's origin, which ``cross_domain.py``
checks against the allow list) and posts the answer back. The answer's header names are
spelled as IIS writes them, from ``CANONICAL_HEADERS``: browsers lower-case
``getAllResponseHeaders()`` and applications written against real servers look names up
case-sensitively.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

__all__ = ["CANONICAL_HEADERS", "page"]

# Every header name the simulator answers with, spelled as IIS and UCWA write them
# (ucwa-protocol.md 4: Content-Type, WWW-Authenticate, X-Ms-diagnostics; Versioning.md:
# X-MS-UcwaVersion), and the ones IIS adds that a recording may show.
CANONICAL_HEADERS: tuple[str, ...] = (
    "Allow",
    "Cache-Control",
    "Connection",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "Date",
    "ETag",
    "Expires",
    "Last-Modified",
    "Location",
    "Pragma",
    "Retry-After",
    "Server",
    "Set-Cookie",
    "Transfer-Encoding",
    "Vary",
    "WWW-Authenticate",
    "X-AspNet-Version",
    "X-Content-Type-Options",
    "X-MS-Server-Fqdn",
    "X-MS-UcwaVersion",
    "X-Ms-diagnostics",
    "X-Powered-By",
    "X-Ucwa-Nb-Injected-Fault",
)

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>XFrame</title></head>
<body>
<script>
{script}</script>
</body>
</html>
"""


@functools.cache
def page() -> str:
    """The frame's HTML page, its script with the canonical header names filled in."""
    script = resources.files("ucwa_nb.sim").joinpath("xframe.js").read_text("utf-8")
    names = json.dumps(list(CANONICAL_HEADERS))
    return _PAGE.format(script=script.replace("__CANONICAL_HEADERS__", names))
