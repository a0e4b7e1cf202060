"""`pathway serve`: the coordinator web app and JSON API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from pathway import logs
from pathway.adapters.channels import EmailSender
from pathway.cli.common import app, get_app, handles_errors
from pathway.domain.errors import InvalidInput

WEB_APP = "pathway.web.app:from_environment"  # by name: the CLI does not import the web layer


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    with_scheduler: Annotated[
        bool, typer.Option("--with-scheduler", help="Also run the reminder jobs in this process.")
    ] = False,
) -> None:
    """Serve the web pages and the JSON API (/api/v1); sign in with a token from `pathway users add`.

    Example: pathway serve --port 8000 --with-scheduler
    """
    import uvicorn

    from pathway.services.daily_report import ReportConfig
    from scheduler.runner import Jobs, start_background

    if not 1 <= port <= 65535:
        raise InvalidInput("--port must be between 1 and 65535")
    application = get_app()  # refuses here, in one line, a database that is not ready
    application.session_secret()  # refuses here, in one line, without one (the app logs a demo's)
    logs.configure(application.settings.log_format)
    scheduler = None
    if with_scheduler:
        settings = application.settings
        senders = application.senders()
        mailer = senders.get("email")
        report = ReportConfig(
            settings.reports_dir,
            settings.report_recipients,
            mailer if isinstance(mailer, EmailSender) else None,
        )
        scheduler = start_background(
            Jobs(
                application.deps,
                settings.sweep_minutes,
                senders,
                application.retry_policy,
                settings.report_time,
                report,
            )
        )
    try:
        uvicorn.run(
            WEB_APP,
            factory=True,
            host=host,
            port=port,
            log_level="info",
            log_config=None,  # logging as configured above: one format, uvicorn's lines included
            access_log=False,  # pathway.web.observe writes route templates, never paths with MRNs
            # the client address (sign-in throttling, audit) from X-Forwarded-For only when it
            # comes from a proxy named in PATHWAY_TRUSTED_PROXIES; otherwise the peer's address
            proxy_headers=bool(application.settings.trusted_proxies),
            forwarded_allow_ips=list(application.settings.trusted_proxies) or None,
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        application.engine.dispose()
