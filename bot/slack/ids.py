"""Slack identifiers the app owns: the one place they are spelled."""

from __future__ import annotations

COMMAND = "/sis-maint"
APPROVE = "window_approve"
DENY = "window_deny"
BLOCK_DECISION = "window_decision"
EXTEND_30 = "window_extend_30m"
EXTEND_60 = "window_extend_1h"
REENABLE = "window_reenable"
BLOCK_END_CHOICES = "window_end_choices"
# What each extend button adds, in minutes.
EXTEND_MINUTES = {EXTEND_30: 30, EXTEND_60: 60}
