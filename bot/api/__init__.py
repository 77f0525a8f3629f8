"""The HTTP API under /api/v1 for scripts (docs/api.md): bearer tokens, JSON in and out, the
same services the slash command calls, and the same cards and threads in Slack."""
