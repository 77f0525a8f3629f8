"""A window's start, told in its thread: the one sequence of an approval in Slack, an approval
by change ticket over the API, and a scheduled start.

The worker is woken at once and takes its leases and plans while each environment's merge
history is read (bounded), but writes nothing until the start's message, with any merge still
running, is on its way to the thread, which holds the worker's reports until it is posted
(bot.services.start_gates). What was found running is then watched to its end
(bot.services.running_merges).
"""

from __future__ import annotations

from bot.domain.states import WindowState
from bot.services.running_merges import RunningMerges
from bot.services.views import WindowView
from bot.slack.context import Kicker, SlackDeps
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


def tell_approved(deps: SlackDeps, view: WindowView, text: str) -> None:
    """The thread told ``text`` of the approval that decided ``view`` (once per window), and
    its start with it if it starts now: an approval in Slack and one by change ticket."""
    start_and_tell(
        deps.notifier,
        deps.worker,
        deps.running_merges,
        view,
        key=f"approved:{view.id}",
        text=text,
        starts=view.state is WindowState.ACTIVE,
    )


def _nothing() -> None:
    """Nothing is held."""
