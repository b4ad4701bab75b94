"""The README's command-line table names every `locator` command and every option it takes."""

from __future__ import annotations

import re
from pathlib import Path

import click

from locator.cli import main

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "locator"):
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield path, command


def test_every_cli_command_and_option_is_in_the_readme_table():
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `locator")]
    missing = []
    for path, command in commands(main):
        words = path.split()
        # a row documents a command when it starts with it ("locator user add|list|remove" documents each)
        pattern = re.escape(" ".join(words[:-1])) + r" [a-z|\\-]*\b" + re.escape(words[-1]) + r"\b"
        found = [r for r in rows if re.match(r"\| `" + pattern, r)]
        if not found:
            missing.append(path)
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                longest = max(param.opts, key=len)
                if longest not in ("--db", "--help") and not any(longest in r for r in found):
                    missing.append(f"{path} {longest}")
    assert not missing, f"missing from the README's command table: {missing}"
