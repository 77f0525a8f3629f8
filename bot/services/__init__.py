"""Service functions: the only code that changes the ledger."""
