"""Keep secrets out of findings, whatever the source.

A log of ucwa-nb is redacted when each row is recorded (``ucwa_nb.log.redaction``), but the
doctor also reads HAR files saved by a browser or Fiddler and records built by other code
(the simulator's trainer view), which may carry an Authorization header, a token, a password
or the blobs of an NTLM/Negotiate handshake. Every piece of text a finding shows passes
``scrub`` first: the doctor itself never prints one of them, even if a source forgot.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["REDACTED", "scrub"]

REDACTED: Final = "[REDACTED]"

# An HTTP credential after its scheme: "Bearer cwt=...", "Negotiate TlRMTVNT...", "NTLM ...".
# The scheme stays visible (it is what a reader needs: which sign-in was tried).
_SCHEMED: Final = re.compile(
    r"\b(Bearer|Basic|Negotiate|NTLM|Kerberos|Digest)\s+(?!\[REDACTED\])[A-Za-z0-9+/=._~%:-]{6,}",
    re.IGNORECASE)
# Credentials named in JSON ("password": "..."), forms and queries (password=...).
_NAMES: Final = (r"(?:access_token|refresh_token|id_token|password|client_secret|"
                 r"ms_rtc_renew|code_verifier|assertion)")
_JSON: Final = re.compile(rf'("{_NAMES}"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_FORM: Final = re.compile(rf"((?<![\w.-]){_NAMES}=)[^&\s#\"'<]+", re.IGNORECASE)
_XML: Final = re.compile(rf'(<property\s+name="{_NAMES}"\s*>)[^<]+', re.IGNORECASE)
# A UCWA token anywhere (cwt=..., also URL-encoded), even unnamed.
_CWT: Final = re.compile(r"cwt(?:=|%3D)(?!\[REDACTED\])[A-Za-z0-9+/=._~%-]+", re.IGNORECASE)


def scrub(text: str) -> str:
    """``text`` with every credential it holds replaced by ``[REDACTED]``."""
    text = _SCHEMED.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JSON.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    text = _FORM.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _XML.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _CWT.sub(f"cwt={REDACTED}", text)
