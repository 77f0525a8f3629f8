"""Local stand-ins for trying and testing the bot without a Slack workspace."""
