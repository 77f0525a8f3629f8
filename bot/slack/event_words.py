"""What each audit event is called where people read the history: words, not ledger names.

The ledger keeps its own names (``baseline_recorded``); ``event_words`` says what happened
as a registrar would put it. An action not listed here is shown with its underscores as spaces.
"""

from __future__ import annotations

EVENT_WORDS = {
    # A window's life
    "requested": "requested",
    "approved": "approved",
    "approval_added": "approved, waiting for another approver",
    "denied": "denied",
    "started": "started",
    "missed": "missed: its end passed before it could start",
    "expired": "expired without a decision",
    "extended": "extended",
    "ended": "ended",
    "cancelled": "cancelled",
    # Merges switched and restored
    "baseline_recorded": "noted the switches to restore afterwards",
    "baseline_chosen": "chose the switches to restore",
    "save_state_decided": "decided about Coursedog's saved state",
    "schedule_written": "switched merges in Coursedog",
    "schedule_write_failed": "could not switch merges in Coursedog",
    "write_schedule_abandoned": "switching merges in Coursedog was interrupted",
    "baseline_restored": "restored the switches",
    "reconcile_failed": "could not set the switches",
    "switched_to_checklist": "switching by hand from now on",
    "unexplained_off_reported": "found merges off with no window holding them",
    "merge_running_at_start": "found a merge still running as merges went off",
    "unexplained_off_cleared": "merges found off are running again",
    # Switching by hand
    "checklist_opened_early": "opened the checklist early",
    "checklist_step_done": "did a checklist step",
    "checklist_reopened": "merges changed again: checklist reopened",
    "checklist_handed_to_coursedog": "handed the checklist to Coursedog",
    # Coursedog told
    "coursedog_notice_sent": "emailed Coursedog",
    "coursedog_notice_drafted": "drafted an email to Coursedog",
    "coursedog_notice_confirmed": "confirmed Coursedog was told",
    "coursedog_notice_superseded": "replaced an unsent draft to Coursedog",
    "activity_commented": "commented in Coursedog",
    "activity_comment_failed": "could not comment in Coursedog",
    "activity_comment_handed_over": "comment handed to a person",
    "activity_comment_abandoned": "commenting in Coursedog was interrupted",
    # Series, occurrences, blackouts
    "series_requested": "series requested",
    "series_approved": "series approved",
    "series_approval_added": "series approved, waiting for another approver",
    "series_denied": "series denied",
    "series_edited": "series changed",
    "series_ended": "series ended",
    "occurrence_scheduled": "occurrence scheduled",
    "occurrence_skipped": "occurrence skipped",
    "occurrence_moved": "occurrence moved",
    "blackout_added": "blackout added",
    "blackout_removed": "blackout removed",
    "blackout_overridden": "blackout overridden",
    # How merges are switched
    "write_contract_learned": "learned how to switch merges",
    "write_contract_verified": "proved how to switch merges",
}


def event_words(action: str) -> str:
    """What an audit event is called in the history people read."""
    return EVENT_WORDS.get(action, action.replace("_", " "))
