"""UcwaError.from_response for UCWA (JSON, XML) and non-UCWA bodies; ValidationError text."""

from __future__ import annotations

import httpx
import pytest

from ucwa_nb import DiscoveryError, UcwaError, ValidationError
from ucwa_nb.protocol import Reason

TOKEN = "cwt=AAEBHAEFAAAAAAAFFQAAAMYGnS0secret-token-value"
URL = "https://fe1.contoso.com/ucwa/oauth/v1/applications/101/communication/conversations/1/" \
      "phoneAudio/addPhoneAudio"


def _response(status: int, content: bytes, content_type: str | None,
              headers: dict[str, str] | None = None, url: str = URL) -> httpx.Response:
    request = httpx.Request("POST", url, headers={"Authorization": f"Bearer {TOKEN}"},
                            content=b'{"operationId":"op-1"}')
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    return httpx.Response(status, headers=all_headers, content=content, request=request)


JSON_BODY = (b'{"code":"BadRequest","subcode":"ParameterValidationFailure",'
             b'"message":"Please check what you entered and try again.",'
             b'"parameters":{"operationId":"The maximum length is 50 characters."}}')
XML_BODY = (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<reason xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            b'<code>Conflict</code><subcode>AlreadyExists</subcode>'
            b'<message>The requested resource already exists.</message>'
            b'</reason>')


def _assert_no_token(error: UcwaError) -> None:
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert TOKEN not in " ".join(str(a) for a in error.args)


def test_json_error() -> None:
    error = UcwaError.from_response(_response(
        400, JSON_BODY, "application/json; charset=utf-8",
        {"X-Ms-diagnostics": '28001;reason="bad input";source="fe1.contoso.com"'}))
    assert (error.status, error.code, error.subcode) == (400, "BadRequest",
                                                         "ParameterValidationFailure")
    assert error.message == "Please check what you entered and try again."
    assert error.parameters == {"operationId": "The maximum length is 50 characters."}
    assert error.diagnostics is not None
    assert error.diagnostics.startswith("28001")
    assert (error.method, error.url) == ("POST", URL)
    text = str(error)
    assert text.startswith("400 BadRequest/ParameterValidationFailure: Please check")
    assert "operationId: The maximum length" in text
    assert f"[POST {URL}]" in text
    assert error.reason == Reason("BadRequest", "ParameterValidationFailure", error.message,
                                  error.parameters)
    _assert_no_token(error)


@pytest.mark.parametrize("content_type", ["application/xml",
                                          "application/vnd.microsoft.com.ucwa+xml",
                                          "text/xml; charset=utf-8"])
def test_xml_error(content_type: str) -> None:
    error = UcwaError.from_response(_response(409, XML_BODY, content_type))
    assert (error.status, error.code, error.subcode) == (409, "Conflict", "AlreadyExists")
    assert error.message == "The requested resource already exists."
    assert error.parameters == {}
    _assert_no_token(error)


def test_error_without_subcode() -> None:
    error = UcwaError.from_response(_response(
        409, b'{"code":"Conflict","message":"Un-supported Service/Resource/API error."}',
        "application/json"))
    assert (error.code, error.subcode) == ("Conflict", None)
    assert str(error).startswith("409 Conflict: Un-supported")


def test_oauth_json_error() -> None:
    error = UcwaError.from_response(_response(
        400, b'{"error":"invalid_grant"}', "application/json",
        {"X-Ms-diagnostics": '28020;reason="No valid security token."'}))
    assert (error.status, error.code, error.subcode) == (400, "OAuthError", None)
    assert error.message == "invalid_grant"
    assert error.diagnostics is not None
    assert "28020" in error.diagnostics
    _assert_no_token(error)


def test_html_page() -> None:
    error = UcwaError.from_response(_response(
        401, b"<html><body><h1>401 - Unauthorized</h1></body></html>", "text/html"))
    assert (error.status, error.code, error.subcode, error.message) == \
        (401, "Unauthorized", None, None)
    assert str(error).startswith("401 Unauthorized [POST")


@pytest.mark.parametrize(("status", "content", "content_type", "code"), [
    (500, b"", None, "InternalServerError"),
    (502, b"Bad gateway", "text/plain", "BadGateway"),
    (500, b'{"unexpected": true}', "application/json", "InternalServerError"),
    (500, b"{not json", "application/json", "InternalServerError"),
    (503, b"<oops", "application/xml", "ServiceUnavailable"),
    (599, b"", None, "HTTP599"),
])
def test_other_bodies(status: int, content: bytes, content_type: str | None,
                      code: str) -> None:
    error = UcwaError.from_response(_response(status, content, content_type))
    assert (error.status, error.code, error.subcode) == (status, code, None)
    _assert_no_token(error)


def test_query_string_is_left_out_of_the_message() -> None:
    error = UcwaError.from_response(_response(
        404, b'{"code":"NotFound","subcode":"ApplicationNotFound"}', "application/json",
        url=f"https://fe1.contoso.com/ucwa/oauth/v1/applications/9/events?ack=3&"
            f"access_token={TOKEN}"))
    assert error.url == "https://fe1.contoso.com/ucwa/oauth/v1/applications/9/events"
    _assert_no_token(error)


def test_constructed_directly() -> None:
    error = UcwaError(0, "LinkNotOffered", message="no link")
    assert str(error) == "0 LinkNotOffered: no link"
    assert error.parameters == {}
    assert error.diagnostics is None
    assert isinstance(error, Exception)


def test_validation_error_text() -> None:
    error = ValidationError({"to": "required", "operationId": "51 characters"})
    assert isinstance(error, ValueError)
    assert error.problems == {"to": "required", "operationId": "51 characters"}
    assert str(error) == ("invalid input (to: required; operationId: 51 characters). "
                          "Pass validate=False to send it anyway.")


def test_discovery_error_is_a_runtime_error() -> None:
    assert issubclass(DiscoveryError, RuntimeError)


@pytest.mark.parametrize(("status", "code", "hint"), [
    (400, "invalid_grant", "wrong username or password?"),
    (429, "invalid_grant", "too many sign-in attempts"),
    (400, "unsupported_grant_type", ""),
])
def test_a_refused_sign_in_says_what_was_likely_wrong(status: int, code: str,
                                                      hint: str) -> None:
    from ucwa_nb.client.errors import SignInError

    error = SignInError(status, code, method="POST", url="https://contoso.com/WebTicket/oauthtoken")
    assert error.hint.startswith(hint)
    assert str(error).startswith(f"sign-in refused: {status} {code}")
    assert (hint in str(error)) if hint else str(error).endswith("/WebTicket/oauthtoken]")


def test_a_wrong_password_against_the_simulator_says_so(sim: object) -> None:
    import ucwa_nb

    with pytest.raises(DiscoveryError, match=r"400 invalid_grant.*wrong username or password"):
        ucwa_nb.connect(sim.url, username="alice@contoso.com",  # type: ignore[attr-defined]
                        password="not the password")
