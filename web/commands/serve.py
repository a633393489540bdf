"""``disaster serve``: the web console and API with waitress."""

from __future__ import annotations

import click

from web.commands.common import CliContext, command_options
from web.plugins import module_exists


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--with-scheduler", is_flag=True,
              help="Also run the scheduler (weather ingestion, warnings) in this process.")
@command_options
def serve(obj: CliContext, host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Serve the map console and the HTTP API."""
    from web.app import create_app
    from web.server import serve as run_server

    runtime = obj.runtime
    app = create_app({"DISASTER_RUNTIME": runtime, "DATABASE_URL": runtime.settings.database_url})
    if with_scheduler:
        if not module_exists("web.scheduler"):
            raise click.ClickException("this build has no scheduler (web.scheduler is missing)")
        from web import scheduler

        scheduler.start_in_process(runtime)
        click.echo("scheduler started in this process", err=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a comparison
    click.echo(f"serving on http://{shown}:{port}/ (press Ctrl+C to stop)")
    run_server(app, host=host, port=port, threads=threads)


def register(group: click.Group) -> None:
    group.add_command(serve)
