"""The README documents every setting and every command, as sqlite-utils and Datasette test their docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from locator import config
from locator.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the click group, with its path of subcommand names."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(main))


def _spans(path: tuple[str, ...]) -> list[str]:
    """README text that shows `locator <path>`: from the name to the end of its code span or line."""
    group, last = path[:-1], path[-1] if path else None
    head = re.escape(" ".join(("locator", *group)))
    spans = []
    for match in re.finditer(rf"\b{head}(?=[ `\n])([^`\n]*)", README):
        rest = match.group(1)
        if last is None or re.search(rf"(^|[\s|]){re.escape(last)}($|[\s|\[])", rest):
            spans.append(rest)
    return spans


def test_every_setting_of_config_is_in_the_readme():
    missing = [name for name in config.defaults() if not re.search(rf"`[^`]*\b{name}\b[^`]*`", README)]
    assert missing == []


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(("locator", *p)))
def test_every_command_is_in_the_readme(path):
    assert _spans(path), f"locator {' '.join(path)} is not shown in the README"


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=lambda p: " ".join(("locator", *p)) if isinstance(p, tuple) else ""
)
def test_every_option_of_every_command_is_in_the_readme(path, command):
    # `--db` is said once for every command ("Every command takes `--db PATH`").
    assert "Every command takes `--db PATH`" in README
    options = [o for p in command.params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")]
    shown = " ".join(_spans(path))
    assert [o for o in options if o != "--db" and o not in shown] == []


def test_the_walk_sees_every_command():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"build", "serve", "import", "export", "fetch annuaire", "user add", "user set-password"} <= names
