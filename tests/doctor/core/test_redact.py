"""Secrets never reach a finding, whatever the source."""

from __future__ import annotations

import pytest

from ucwa_nb.doctor.core import Finding, scrub


@pytest.mark.parametrize(("text", "secret"), [
    ("Authorization: Bearer cwt=AAEBHAEFsecret", "AAEBHAEFsecret"),
    ("WWW-Authenticate: Negotiate TlRMTVNTUAACAAAAblob", "TlRMTVNTUAACAAAAblob"),
    ("NTLM TlRMTVNTUAADAAAAanotherblob", "TlRMTVNTUAADAAAAanotherblob"),
    ('{"password": "hunter2!"}', "hunter2!"),
    ("grant_type=password&username=a&password=pa55word", "pa55word"),
    ("https://x/?access_token=tok123456", "tok123456"),
    ("Basic YWxpY2U6c2VjcmV0", "YWxpY2U6c2VjcmV0"),
])
def test_scrub(text: str, secret: str) -> None:
    assert secret not in scrub(text)
    assert "[REDACTED]" in scrub(text)


def test_a_finding_scrubs_every_text() -> None:
    finding = Finding("r.x", "t", (1,), "Bearer cwt=abcdefgh", "password=xyz123", "ok",
                      "https://learn.microsoft.com/")
    assert "abcdefgh" not in finding.evidence
    assert "xyz123" not in finding.cause
