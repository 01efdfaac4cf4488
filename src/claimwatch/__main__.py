"""The `claimwatch` command (the console script and `python -m claimwatch`).

A one-worker `claimwatch scan` forks its inflate helper here, before the CLI's imports (Typer's alone
takes ~0.15 s), so that the helper inflates while they run (scan/prestart.py).
"""

import sys


def main() -> None:
    if sys.argv[1:2] == ["scan"]:
        from claimwatch.scan.prestart import prestart

        prestart(sys.argv[2:])
    from claimwatch.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
