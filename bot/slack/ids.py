"""Slack identifiers the app owns: the one place they are spelled."""

from __future__ import annotations

COMMAND = "/sis-maint"
APPROVE = "window_approve"
DENY = "window_deny"
BLOCK_DECISION = "window_decision"
