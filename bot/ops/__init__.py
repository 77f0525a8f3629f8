"""Running the bot in production: the calendar feed, health checks, metrics, their HTTP routes."""
