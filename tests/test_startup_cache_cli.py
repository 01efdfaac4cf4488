"""`claimwatch CMD` imports only the module that registers CMD (cli._MODULE_OF): the table must
name every command's module, or a command would not be found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from claimwatch import cli

CLAIMWATCH = str(Path(sys.executable).parent / "claimwatch")


def test_every_command_is_registered_by_the_module_the_table_names():
    cli._register()
    registered = {(c.name or c.callback.__name__.replace("_", "-")): c.callback.__module__
                  for c in cli.app.registered_commands}
    assert registered == {name: f"claimwatch.cli.{module}" for name, module in cli._MODULE_OF.items()}


def test_each_command_runs_with_only_its_own_module():
    for name in cli._MODULE_OF:
        out = subprocess.run([CLAIMWATCH, name, "--help"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and f"Usage: claimwatch {name} " in out.stdout, (name, out.stderr)
