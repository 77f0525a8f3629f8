"""Running a pass over many environments at once, within a bound per Coursedog host."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


class FanOut:
    """Runs one task per environment, in parallel, at most ``per_host`` at once on a host.

    Each host's environments are taken in turn by at most ``per_host`` threads, so a slow or
    crowded host neither holds up another host nor gets more than its share of calls at once.
    One environment runs in the caller's thread.
    """

    def __init__(
        self,
        hosts: Mapping[str, str],
        per_host: int,
        *,
        thread_name_prefix: str = "sis-maint-switch",
    ) -> None:
        """``hosts``: environment -> its Coursedog host (one not named is a host of its own)."""
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self._hosts = dict(hosts)
        self.per_host = per_host
        counts: dict[str, int] = defaultdict(int)
        for host in self._hosts.values():
            counts[host] += 1
        width = sum(min(per_host, n) for n in counts.values()) or 1
        self._pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix=thread_name_prefix)
        self._lock = threading.Lock()

    def run(
        self, environments: Iterable[str], task: Callable[[str], T]
    ) -> dict[str, T | Exception]:
        """``task(env)`` for each environment; what each returned, or the exception it raised."""
        envs = sorted(set(environments))
        if len(envs) <= 1:
            return {env: attempt(task, env) for env in envs}
        queues: dict[str, list[str]] = defaultdict(list)
        for env in envs:
            queues[self._hosts.get(env, f"env:{env}")].append(env)
        results: dict[str, T | Exception] = {}
        lock = threading.Lock()

        def drain(queue: list[str]) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    env = queue.pop(0)
                outcome = attempt(task, env)
                with lock:
                    results[env] = outcome

        with self._lock:  # one fan-out at a time keeps each host within its bound
            futures = [
                self._pool.submit(drain, queue)
                for queue in queues.values()
                for _ in range(min(self.per_host, len(queue)))
            ]
            wait(futures)
        for future in futures:
            future.result()  # drain itself never raises; a bug there should not go unseen
        return {env: results[env] for env in envs}

    def close(self) -> None:
        """Let go of the threads (a task under way finishes on its own)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def attempt(task: Callable[[str], T], env: str) -> T | Exception:
    """``task(env)``, or the exception it raised."""
    try:
        return task(env)
    except Exception as exc:  # one environment's failure must not hold up the others
        return exc
