"""Examples to copy: a receiver for the bot's signed webhooks (docs/webhooks.md)."""
