"""connect(verify=...): CA bundles by path, contexts as given, and a loud verify=False."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest

import ucwa_nb
from ucwa_nb.client.tls import InsecureTLSWarning, ssl_verify


def test_contexts_pass_through_and_the_default_one_is_shared() -> None:
    context = ssl.create_default_context()
    assert ssl_verify(context) is context
    default = ssl_verify(True)
    assert isinstance(default, ssl.SSLContext)
    assert default.verify_mode == ssl.CERT_REQUIRED
    assert ssl_verify(True) is default  # built once: loading the CA bundle costs ~0.1 s


@pytest.mark.parametrize("as_path", [str, Path])
def test_a_ca_bundle_file_becomes_a_context_that_trusts_it(as_path: type) -> None:
    context = ssl_verify(as_path(certifi.where()))
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


def test_a_directory_of_certificates_is_accepted(tmp_path: Path) -> None:
    context = ssl_verify(tmp_path)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_a_missing_bundle_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "corp-ca.pem"
    with pytest.raises(FileNotFoundError, match=r"corp-ca\.pem"):
        ssl_verify(str(missing))


def test_verify_false_warns_and_still_connects(sim: ucwa_nb.Simulator) -> None:
    demo = sim.scenario.demo_user
    with pytest.warns(InsecureTLSWarning, match="verification is off"):
        session = ucwa_nb.connect(sim.url, username=demo.username, password=demo.password,
                                  verify=False)
    with session:
        assert session.application_url is not None
