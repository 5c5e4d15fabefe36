"""The trainer's view behind JupyterHub's login: a ``TrainerGate`` on the hub's OAuth.

``ucwa-nb serve --jupyterhub`` runs the simulator as a hub-managed service
(docs/jupyterhub_config.py): the hub's proxy forwards ``/services/<name>/`` to it, and
``/_simulator/activity`` is for the members of one hub group (``ucwa-nb-trainers`` unless
told otherwise) and for hub admins when the hub says so. A browser that has not logged in is
sent through the hub's OAuth (``jupyterhub.services.auth.HubOAuth``, with PKCE and a state
cookie), back to ``<prefix>/oauth_callback``; the hub's token is then kept in an HttpOnly
cookie for this service's path and checked against the hub (``GET /hub/api/user``, cached by
HubOAuth) on each visit. A script may instead send ``Authorization: token <hub API token>``
(how the hub's services take tokens), e.g. the trainer merging the shards' views
(``shards.merged_activity``).

jupyterhub is imported only here, when the gate is made: it is the ``hub`` extra.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ucwa_nb.sim import paths
from ucwa_nb.sim.trainer import TrainerGate

__all__ = ["TRAINER_GROUP", "HubTrainerGate", "hub_oauth"]

TRAINER_GROUP = "ucwa-nb-trainers"
_STATE_COOKIE = "ucwa-nb-oauth-state"


def hub_oauth() -> Any:
    """HubOAuth configured from the environment the hub gives its services
    (JUPYTERHUB_API_TOKEN, JUPYTERHUB_API_URL, JUPYTERHUB_CLIENT_ID, ...)."""
    from jupyterhub.services.auth import HubOAuth  # the `hub` extra

    return HubOAuth(cache_max_age=60)


class HubTrainerGate(TrainerGate):
    """Trainers are the hub users in ``group`` (and admins, if the hub's answer says so)."""

    def __init__(self, auth: Any, group: str = TRAINER_GROUP) -> None:
        self.auth = auth  # a HubOAuth, or anything with its methods (tests)
        self.group = group

    @property
    def _cookie(self) -> str:
        return str(self.auth.oauth_client_id)

    async def admit(self, request: Request) -> Response | None:
        # A browser has the login's cookie; a script (the trainer merging shards' views,
        # shards.py) sends a hub API token as JupyterHub's services take it.
        header = _hub_token(request.headers.get("authorization", ""))
        token = header or request.cookies.get(self._cookie)
        model = await self.auth.user_for_token(token, sync=False) if token else None
        if model is None:
            if header:
                return Response("The hub did not accept this token.\n", 403,
                                {"Cache-Control": "no-store"}, media_type="text/plain")
            return self._login(request)
        if model.get("admin") is True or self.group in (model.get("groups") or []):
            return None
        return Response(f"Only the trainers (hub group {self.group}) see this page.\n", 403,
                        {"Cache-Control": "no-store"}, media_type="text/plain")

    def _login(self, request: Request) -> Response:
        verifier, challenge, method = self.auth.generate_pkce_code_challenge()
        state = self.auth.generate_state(next_url=request.url.path, code_verifier=verifier)
        query = urlencode({"state": state, "code_challenge": challenge,
                           "code_challenge_method": method})
        response = RedirectResponse(f"{self.auth.login_url}&{query}", 302)
        response.set_cookie(_STATE_COOKIE, state, max_age=600, path=_path(), httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
        return response

    async def callback(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        code = request.query_params.get("code", "")
        expected = request.cookies.get(_STATE_COOKIE, "")
        if not code or not state or not hmac.compare_digest(state, expected):
            return Response("The hub's answer does not match this login; try again.\n", 400,
                            media_type="text/plain")
        next_url = self.auth.get_next_url(state) or paths.path("activity")
        verifier = self.auth.get_code_verifier(state)
        self.auth.clear_oauth_state(state)
        token = await self.auth.token_for_code(code, code_verifier=verifier, sync=False)
        response = RedirectResponse(next_url, 302)
        response.delete_cookie(_STATE_COOKIE, path=_path())
        response.set_cookie(self._cookie, token, path=_path(), httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
        return response


def _hub_token(authorization: str) -> str | None:
    """The token of ``Authorization: token <t>`` (JupyterHub's scheme), else None."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "token":
        return None
    return token.strip() or None


def _path() -> str:
    return paths.prefix() + "/"
