"""`sis-maint api hash-token`: the SHA-256 a token's ``hash_env`` variable holds."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from bot.api.tokens import hash_token
from bot.cli.env_help import add_command, add_group
from bot.config import MIN_TOKEN
from bot.process_env import ProcessEnv


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``api hash-token`` to the CLI."""
    api = add_group(sub, "api", help="the HTTP API's tokens")
    h = add_command(
        api,
        "hash-token",
        reads=(),
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
