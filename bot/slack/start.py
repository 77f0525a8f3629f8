"""A window's start, told in its thread: the one sequence of an approval in Slack, an approval
by change ticket over the API, and a scheduled start.

The worker is woken at once and takes its leases and plans while each environment's merge
history is read (bounded), but writes nothing until the start's message, with any merge still
running, is on its way to the thread, which holds the worker's reports until it is posted
(bot.services.start_gates). What was found running is then watched to its end
(bot.services.running_merges).
"""

from __future__ import annotations

from bot.services.running_merges import RunningMerges
from bot.services.views import WindowView
from bot.slack.context import Kicker
from bot.slack.merge_messages import at_start
from bot.slack.notifier import SlackNotifier


def start_and_tell(
    notifier: SlackNotifier,
    worker: Kicker,
    running_merges: RunningMerges,
    view: WindowView,
    *,
    key: str,
    text: str,
    starts: bool = True,
) -> None:
    """Tell the thread ``text`` (once per ``key``); when the window ``starts`` now: hold its
    environments, wake the worker, read what merges run, say so with ``text``, let the
    switch-off go, and plan the watch of what was found. Not starting: just ``text``."""
    if not starts:
        notifier.tell_first(view, key, text, then=_nothing)
        return
    envs = view.environment_names
    opened = running_merges.hold(envs)
    try:
        worker.kick(envs, reading=True)
        looks = running_merges.look(envs)
        told = "\n".join([text, *at_start(view, looks)])
        notifier.tell_first(view, key, told, then=opened)
    finally:
        opened()  # opened already, unless reading or composing failed
    running_merges.watch(view.id, looks)


def _nothing() -> None:
    """Nothing is held."""
