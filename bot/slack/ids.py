"""Slack identifiers the app owns: the one place they are spelled."""

from __future__ import annotations

COMMAND = "/sis-maint"
APPROVE = "window_approve"
DENY = "window_deny"
# The modal Deny opens: an optional reason, told to the requester.
DENY_VIEW = "window_deny_reason"
B_DENY_REASON = "deny_reason"
BLOCK_DECISION = "window_decision"
EXTEND_30 = "window_extend_30m"
EXTEND_60 = "window_extend_1h"
REENABLE = "window_reenable"
BLOCK_END_CHOICES = "window_end_choices"
# What each extend button adds, in minutes.
EXTEND_MINUTES = {EXTEND_30: 30, EXTEND_60: 60}
CANCEL = "window_cancel"
# The App Home's button that opens the request form.
HOME_NEW_REQUEST = "home_new_request"
# The request form (the modal opened by a bare /sis-maint).
REQUEST_VIEW = "request_window"
FIELD_ACTION = "value"
B_ENVS = "envs"
B_WHEN = "when"
B_START = "start"
B_LENGTH = "length"
B_END = "end"
B_REASON = "reason"
B_TICKET = "ticket"
WHEN_NOW = "now"
WHEN_AT = "at"
# Where a typed error about a request field is shown on the form.
FIELD_BLOCKS = {
    "environments": B_ENVS,
    "start": B_START,
    "end": B_END,
    "duration": B_LENGTH,
    "reason": B_REASON,
    "ticket": B_TICKET,
}
SAVE_STATE_RESTORE = "save_state_restore"
SAVE_STATE_LEAVE = "save_state_leave"
SAVE_STATE_DECISIONS = {SAVE_STATE_RESTORE: "restore", SAVE_STATE_LEAVE: "leave"}
# Merges found switched off early by hand, with too little evidence: restore what was seen,
# or leave them as found.
BASELINE_OBSERVED = "baseline_observed"
BASELINE_FOUND = "baseline_found"
BASELINE_CHOICES = {BASELINE_OBSERVED: "observed", BASELINE_FOUND: "found"}
NOTICE_SENT = "notice_sent"
# The assisted driver's checklist: Done, "was already off" (no read access), and Posted.
CHECK_DONE = "checklist_done"
CHECK_WAS_OFF = "checklist_was_off"
COMMENT_POSTED = "comment_posted"
# The checklist's way out when the settings are locked: hand the change to Coursedog.
CHECK_LOCKED = "checklist_locked"
# Open a window's checklist before its start (people who switch off early).
CHECK_EARLY = "checklist_early"
# A recurring series' approval card.
SERIES_APPROVE = "series_approve"
SERIES_DENY = "series_deny"
BLOCK_SERIES_DECISION = "series_decision"
