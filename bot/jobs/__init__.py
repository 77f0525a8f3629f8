"""The background work: the scheduler and its handlers of due actions, and the worker."""
