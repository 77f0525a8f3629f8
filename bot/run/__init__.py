"""Start-up, wiring and serving: what runs the bot as a process."""
