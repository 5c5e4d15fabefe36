"""What a front end in front of the pool answers instead of UCWA: the answers of the faults
``scenario.FRONT_END_FAULTS``, injected on a rel (``[[faults]]``, ``inject_fault``) to
reproduce the doctor's sign-in signatures (``ucwa_nb/doctor/core/rules/signin.py``).

A departure for teaching, opt-in and named: a faithful simulator is UCWA itself and never
answers so. Each answer has the shape users of real servers met (``real-server-facts.md``,
"What users of real servers ran into"), and carries ``X-Ucwa-Nb-Injected-Fault`` as the
injected UCWA errors do.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from ucwa_nb.sim.scenario import ServerSettings

__all__ = ["front_end_answer"]

_MARK = {"X-Ucwa-Nb-Injected-Fault": "true"}

# The IIS page a 401 carries (the simulator's own challenge has the same body).
_IIS_401 = (b"<html><head><title>401 - Unauthorized</title></head><body>"
            b"<h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1>"
            b"</body></html>")

# [infer] A forms sign-in page of a reverse proxy or IIS forms authentication, answered in
# place of the resource (200, text/html), as the HTML page of UCWA2.0-CS issue 37 was; its
# form posts nowhere real: it is there to be recognised, not filled in.
_LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign In</title></head><body>"
               b"<h1>Sign In</h1><form method=\"post\" action=\"/adfs/ls/\">"
               b"<label>User name <input name=\"UserName\"></label>"
               b"<label>Password <input name=\"Password\" type=\"password\"></label>"
               b"<input type=\"submit\" value=\"Sign in\"></form></body></html>")


def _proxy_challenge(settings: ServerSettings) -> Response:
    # A reverse proxy doing Windows pre-authentication: 401 offering only Negotiate and NTLM,
    # no MsRtcOAuth (mattermost-plugin-skype4business issue 50).
    response = Response(_IIS_401, 401, media_type="text/html", headers=_MARK)
    response.headers.append("WWW-Authenticate", "Negotiate")
    response.headers.append("WWW-Authenticate", "NTLM")
    return response


def _token_rejected(settings: ServerSettings) -> Response:
    # A front end refusing the bearer token: 403, an empty body and X-Ms-diagnostics 28055
    # (skype-docs issue 347; the shape of the doctor's Fiddler fixture).
    diagnostic = (f'28055;source="{settings.server_fqdn}";'
                  'reason="The OAuth token is invalid"')
    return Response(b"", 403, headers={**_MARK, "X-Ms-diagnostics": diagnostic})


def _login_page(settings: ServerSettings) -> Response:
    return Response(_LOGIN_PAGE, 200, media_type="text/html; charset=utf-8", headers=_MARK)


_ANSWERS: dict[str, Callable[[ServerSettings], Response]] = {
    "ProxyChallenge": _proxy_challenge,
    "TokenRejected": _token_rejected,
    "LoginPage": _login_page,
}


def front_end_answer(name: str, settings: ServerSettings) -> Response:
    """The answer of the front-end fault ``name`` (one of ``FRONT_END_FAULTS``)."""
    return _ANSWERS[name](settings)
