"""The `claimwatch` command. Commands live in sibling modules and register on `app`."""

from __future__ import annotations

import sys

import typer

from claimwatch import __version__

app = typer.Typer(
    name="claimwatch",
    help=(
        "Find, preserve and track claims that surveillance vendors make about prohibited "
        "analytics, and prove when such a claim is removed. claimwatch reads documents, never people."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"claimwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    pass


def _register() -> None:
    # Command modules import `app` from here, so they are imported after it exists.
    from claimwatch.cli import detect, evidence, scan  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("claimwatch: interrupted\n")
        sys.exit(130)
