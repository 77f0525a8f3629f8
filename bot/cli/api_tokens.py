"""`sis-maint api hash-token`: the SHA-256 a token's ``hash_env`` variable holds."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from bot.api.tokens import hash_token
from bot.process_env import ProcessEnv

MIN_TOKEN = 20


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``api hash-token`` to the CLI."""
    api = sub.add_parser("api", help="the HTTP API's tokens").add_subparsers(
        dest="api_command", required=True
    )
    h = api.add_parser(
        "hash-token",
        help="print the SHA-256 of a token read from standard input (or a new token with --new)",
    )
    h.add_argument("--new", action="store_true", help="make a new random token and print both")
    h.set_defaults(func=cmd_hash_token)


def cmd_hash_token(args: argparse.Namespace, _env: ProcessEnv) -> int:
    """Print the hash (and, with --new, the new token first)."""
    if args.new:
        token = secrets.token_urlsafe(32)
        print(f"token: {token}")
        print(f"hash:  {hash_token(token)}")
        return 0
    token = getpass.getpass("token: ") if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    if len(token) < MIN_TOKEN:
        print(f"sis-maint: a token needs at least {MIN_TOKEN} characters", file=sys.stderr)
        return 2
    print(hash_token(token))
    return 0
