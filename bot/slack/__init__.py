"""The Slack surface: Bolt app, thin listeners, pure Block Kit rendering."""
