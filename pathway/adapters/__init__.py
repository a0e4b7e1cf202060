"""Adapters beside the database: notification channels (log, SMTP, webhook) and the pathway file loader."""
