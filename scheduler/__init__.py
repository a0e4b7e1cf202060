"""APScheduler adapter: periodic jobs (sweep, notifications, daily report) and their runner."""
