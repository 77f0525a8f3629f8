"""Service functions: the only code that changes the ledger.

The Slack side (bot.slack) and the handlers of due actions (bot.jobs) post and call services;
what the bot owes Slack is bot.services.outbox's. The one other writer is the scheduler, which
claims, completes and gives back due actions; a handler's effect commits in its
``Lease.transaction``, written by services (tests/bot/test_ledger_writers.py holds both to it).
"""
