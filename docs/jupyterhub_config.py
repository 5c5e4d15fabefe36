"""ucwa-nb on JupyterHub: the fragment to add to a hub's jupyterhub_config.py
(docs/classroom.md explains it; tests/sim/test_hub_config.py runs it).

- `ucwa-nb serve --jupyterhub` runs as a hub-managed service at /services/ucwa-nb/;
- every user's server gets UCWA_NB_URL, UCWA_NB_USERNAME and UCWA_NB_PASSWORD through
  Spawner.environment, so `ucwa_nb.connect()` signs in as that hub user with no password
  typed; the password is an HMAC of the account under the class's seed, which only the hub
  and the simulator know, so nobody can compute another user's;
- the hub group ucwa-nb-trainers sees /services/ucwa-nb/_simulator/activity (hub login);
- with UCWA_NB_SHARDS = N > 1 (a class larger than one simulator serves well, see
  docs/classroom.md), N services ucwa-nb-0 .. ucwa-nb-(N-1) on ports UCWA_NB_PORT + i, and
  each user is sent to one of them by a stable hash of their hub name (the same shard on
  every spawn, on every hub replica); the trainer merges the shards' views with
  ucwa_nb.sim.shards.merged_activity.

Needs: UCWA_NB_SEED in the hub's environment (32+ random characters, e.g.
`python3 -c "import secrets; print(secrets.token_urlsafe(32))"`; without it the hub stops
with a message saying where to set it), and `ucwa-nb` installed where the service runs
(UCWA_NB_COMMAND: its full path, when it is not on the hub's PATH; on The Littlest
JupyterHub /opt/tljh/user/bin/ucwa-nb is found by itself). Self-contained (no import of
ucwa_nb) so it also fits a hub image without it (Zero to JupyterHub's hub.extraConfig).
"""

import hashlib
import hmac
import os
import shutil
from urllib.parse import quote

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (JupyterHub provides it)

UCWA_NB_SERVICE = "ucwa-nb"
UCWA_NB_PORT = int(os.environ.get("UCWA_NB_PORT", "10101"))
UCWA_NB_DOMAIN = os.environ.get("UCWA_NB_DOMAIN", "contoso.com")
UCWA_NB_SEED = os.environ.get("UCWA_NB_SEED", "")
if not UCWA_NB_SEED:
    # SystemExit: the hub stops with this message alone, not a KeyError's traceback.
    raise SystemExit(
        "ucwa-nb (jupyterhub_config): UCWA_NB_SEED is not set. Set it in the hub's "
        "environment to 32+ random characters (python3 -c \"import secrets; "
        "print(secrets.token_urlsafe(32))\"): on The Littlest JupyterHub in a systemd "
        "drop-in for jupyterhub.service (Environment=UCWA_NB_SEED=...), then "
        "`sudo systemctl daemon-reload` and `sudo tljh-config reload hub`; on Zero to "
        "JupyterHub in hub.extraEnv, from a Secret. See docs/classroom.md.")
# A class scenario with [classroom] hub_users; without one, the default scenario, every hub
# user with an account made like its demo user (the one the notebooks are written for).
UCWA_NB_SCENARIO = os.environ.get("UCWA_NB_SCENARIO", "")
# Where users' servers reach the service: the hub's proxy (public URL) or, on Kubernetes,
# the hub's service address; see docs/classroom.md.
UCWA_NB_PUBLIC_URL = os.environ.get("UCWA_NB_PUBLIC_URL", "http://127.0.0.1:8000")
# Simulators sharing the class (1: one service named ucwa-nb, as before).
UCWA_NB_SHARDS = int(os.environ.get("UCWA_NB_SHARDS", "1"))
# The proxies whose X-Forwarded-For the simulator believes (its limits then count each
# user's own address); empty: none. See docs/classroom.md before setting it.
UCWA_NB_FORWARDED_ALLOW_IPS = os.environ.get("UCWA_NB_FORWARDED_ALLOW_IPS", "")

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_"


def ucwa_nb_password(seed: str, uri: str) -> str:
    """The password of account ``uri`` (sip:name@domain): as the simulator derives it."""
    number = int.from_bytes(hmac.digest(seed.encode(), uri.encode(), hashlib.sha256))
    letters = []
    for _ in range(16):
        number, digit = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[digit])
    return "".join(letters)


def _username(spawner: object) -> str:
    # The hub name as a SIP URI's user part: letters, digits and "._-" as they are, the rest
    # %-escaped (an e-mail address as a name: ada%40example.org@contoso.com), in lower case,
    # as the simulator expects.
    name = spawner.user.name.lower()  # type: ignore[attr-defined]
    return f"{quote(name, safe='._-').lower()}@{UCWA_NB_DOMAIN}"


def _password(spawner: object) -> str:
    return ucwa_nb_password(UCWA_NB_SEED, "sip:" + _username(spawner))


# TLJH's user environment, where `pip install ucwa-nb` puts the command; the hub runs in
# another environment and its PATH does not reach this one.
_TLJH_COMMAND = "/opt/tljh/user/bin/ucwa-nb"


def ucwa_nb_command() -> str:
    """The command the hub runs the service with: UCWA_NB_COMMAND, else `ucwa-nb` when the
    hub's PATH finds it, else TLJH's user environment's, else `ucwa-nb` (and a spawn error
    naming it)."""
    given = os.environ.get("UCWA_NB_COMMAND", "")
    if given:
        return given
    if shutil.which("ucwa-nb") is None and os.path.exists(_TLJH_COMMAND):
        return _TLJH_COMMAND
    return "ucwa-nb"


def ucwa_nb_shard(name: str, shards: int) -> int:
    """The shard of hub user ``name``: a stable hash (the same in every process, unlike
    Python's hash()), as ucwa_nb.sim.shards.shard_of computes it."""
    digest = hashlib.sha256(name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


_SERVICES = [UCWA_NB_SERVICE] if UCWA_NB_SHARDS <= 1 else \
    [f"{UCWA_NB_SERVICE}-{i}" for i in range(UCWA_NB_SHARDS)]


def _root(service: str) -> str:
    return f"{UCWA_NB_PUBLIC_URL}/services/{service}/autodiscover/autodiscoverservice.svc/root"


def _url(spawner: object) -> str:
    name = spawner.user.name  # type: ignore[attr-defined]
    return _root(_SERVICES[ucwa_nb_shard(name, len(_SERVICES))])


_command = [ucwa_nb_command(), "serve", "--jupyterhub"]
if UCWA_NB_SCENARIO:
    _command += ["--scenario", UCWA_NB_SCENARIO]
if UCWA_NB_FORWARDED_ALLOW_IPS:
    _command += ["--forwarded-allow-ips", UCWA_NB_FORWARDED_ALLOW_IPS]

c.JupyterHub.services = [*c.JupyterHub.get("services", []), *({
    "name": service,
    "url": f"http://127.0.0.1:{UCWA_NB_PORT + i}",
    "command": _command,
    "environment": {"UCWA_NB_SEED": UCWA_NB_SEED, "UCWA_NB_DOMAIN": UCWA_NB_DOMAIN},
    "oauth_no_confirm": True,
} for i, service in enumerate(_SERVICES))]
c.JupyterHub.load_groups = {**c.JupyterHub.get("load_groups", {}),
                            "ucwa-nb-trainers": {"users": []}}
c.JupyterHub.load_roles = [*c.JupyterHub.get("load_roles", []), {
    # users may log in to the services (their trainer's pages check the group)
    "name": "user",
    "scopes": ["self", *(f"access:services!service={service}" for service in _SERVICES)],
}]
c.Spawner.environment = {
    **c.Spawner.get("environment", {}),
    "UCWA_NB_URL": _root(UCWA_NB_SERVICE) if len(_SERVICES) == 1 else _url,
    "UCWA_NB_USERNAME": _username,
    "UCWA_NB_PASSWORD": _password,
}
