"""Start a one-worker `claimwatch scan`'s inflate helper before the command line is parsed.

Typer's import alone takes ~0.15 s here, and the detector's imports and databases ~0.2-0.3 s more. The
console entry point (claimwatch/__main__.py) calls `prestart` first, so that the helper is forked
right away and inflates the first files (up to inflate._HEAD_START bytes) meanwhile.

The arguments are read the simple way, without Typer: anything this does not follow (--help, an
option it does not know, more than one worker, Spark, no file) starts nothing. A wrong guess costs
only the head start, never a result: once Typer has parsed the command line, `claimwatch scan`
announces its files again (readers.expect), which does nothing for the same list and replaces the
queue for any other. The command takes the file list made here (`files_for`) rather than walking
the same directories again.
"""

from __future__ import annotations

from claimwatch.scan.sources import UsageError, expand_inputs

# `claimwatch scan`'s options that take a value, and its flags (a test checks both against the command)
VALUED = frozenset({"--workers", "-w", "--engine", "--master", "--out", "-o", "--format"})
FLAGS = frozenset({"--no-prefilter"})
_LONG = {"-w": "--workers", "-o": "--out"}  # (an option given twice: the last one counts, either spelling)


_made: tuple[list[str], list[str]] | None = None  # prestart()'s PATH arguments and their files


def planned_paths(argv: list[str]) -> list[str] | None:
    """The PATH arguments of `claimwatch scan ARGV...` if it reads them with one local worker; None
    when the arguments ask for something else or cannot be followed without Typer."""
    paths: list[str] = []
    values: dict[str, str] = {}
    args = iter(argv)
    for arg in args:
        if arg == "--":
            paths.extend(args)
            break
        if not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg[:2], "", arg[2:])
        if name in FLAGS and not eq and not value:
            continue
        if name not in VALUED:
            return None
        if not eq and not value:
            value = next(args, None)
            if value is None:
                return None
        values[_LONG.get(name, name)] = value
    try:
        workers = int(values.get("--workers", "1"))
    except ValueError:  # (Typer reports it)
        return None
    return paths if workers == 1 and values.get("--engine", "local") == "local" and paths else None


def prestart(argv: list[str]) -> None:
    """Start the inflate helper on the files of `claimwatch scan ARGV...`, if it reads them with one
    local worker (see the module docstring)."""
    global _made
    paths = planned_paths(argv)
    if not paths:
        return
    try:
        files = expand_inputs(paths)
    except UsageError:  # (the command reports it)
        return
    _made = (paths, files)
    if files:
        from claimwatch.scan.readers import expect

        expect(files)


def files_for(paths: list[str]) -> list[str]:
    """expand_inputs(paths), taking the list prestart() made of the same arguments if there is one
    (a large directory tree is then walked once)."""
    global _made
    made, _made = _made, None
    if made is not None and made[0] == paths:
        return made[1]
    return expand_inputs(paths)
