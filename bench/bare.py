"""A bare Bolt app whose only listener acknowledges ``/sis-maint``, served like the bot.

``default`` uses Bolt's defaults (the listener runs on a thread; the request waits for its
ack by polling); ``floor`` sets process_before_response=True (the ack is the response).
Both go through bot.run.server.serve_http: waitress with the bot's settings and WSGI wrapper, whose
gate checks the signature before Bolt sees the request (so Bolt's own check is off, as in the
bot).
"""

from __future__ import annotations

import argparse
import contextlib
import os

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bench.slack import SIGNING_SECRET
from bot.run.server import serve_http
from bot.slack import ids

MODES = ("default", "floor")


def bare_app(mode: str, token: str, api_url: str) -> App:
    """The app: Bolt's defaults, or process_before_response=True for ``floor``.

    Like the bot, it checks its token once (auth.test) against ``api_url``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    client = WebClient(token=token, base_url=api_url)
    app = App(
        client=client,
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
        request_verification_enabled=False,  # the gate in front has checked it
        process_before_response=mode == "floor",
    )

    @app.command(ids.COMMAND)
    def acknowledge(ack: Ack) -> None:
        ack()

    return app


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = bare_app(args.mode, os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_API_URL"])
    with contextlib.suppress(KeyboardInterrupt):
        serve_http(app, "127.0.0.1", args.port, signing_secret=SIGNING_SECRET)


if __name__ == "__main__":
    main()
