"""The coordinator web app and JSON API (FastAPI): thin routes over the same services as the CLI."""
