"""``ucwa-nb preflight DOMAIN-OR-URL``: the preflight of ``client/preflight.py`` as text.

The password never goes on the command line (shell history, ``ps``): ``--password-env VAR``
reads it from an environment variable, ``--ask-password`` prompts for it. Without a password
nothing secret is sent. Exit status: 0 when no finding failed, 1 otherwise, 2 for bad
arguments.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from ucwa_nb.client.preflight import preflight

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ucwa-nb preflight",
        description="A read-only look at a UCWA server: autodiscovery, the root, the sign-in "
                    "challenge, TLS. Creates no application; sends no password unless given "
                    "one.")
    parser.add_argument("target", help="a SIP domain (contoso.com) or an autodiscover root URL")
    parser.add_argument("--ca", metavar="PEM",
                        help="your internal CA's certificate bundle (as connect(verify=...))")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify certificates (an isolated lab only)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds per request (default 10)")
    parser.add_argument("--username", help="also sign in as this user (no application "
                                           "is created): user@domain or DOMAIN\\user")
    parser.add_argument("--password-env", metavar="VAR",
                        help="with --username: the password is in this environment variable")
    parser.add_argument("--ask-password", action="store_true",
                        help="with --username: prompt for the password")
    parser.add_argument("--auth", choices=("auto", "password", "windows"), default="auto",
                        help="the grant to sign in with (default: as the server offers)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a preflight and print it; the exit status says whether anything failed."""
    args = _parser().parse_args(argv)
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"ucwa-nb preflight: {args.password_env} is not set", file=sys.stderr)
            return 2
    elif args.ask_password:
        password = getpass.getpass(f"password for {args.username}: ")
    if password is not None and not args.username:
        print("ucwa-nb preflight: a password needs --username", file=sys.stderr)
        return 2
    verify: bool | str = False if args.insecure else (args.ca or True)
    try:
        result = preflight(args.target, verify=verify, timeout=args.timeout,
                           username=args.username, password=password, auth=args.auth)
    except (OSError, ValueError) as exc:
        print(f"ucwa-nb preflight: {exc}", file=sys.stderr)
        return 2
    print(result)
    return 0 if result.ok else 1
