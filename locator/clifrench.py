"""The command line in French: click's own messages from a gettext catalog, and « o »/« n » answers.

click writes its messages (« Error: … », « Aborted! », prompts, usage) through the standard gettext
module in the default domain; our catalog locale/fr/LC_MESSAGES/messages.mo translates them. Its source
is messages.po beside it (`make locale` compiles it; a test checks that both say the same).
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

import click

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# click's domain: it calls gettext.gettext, which reads the default domain.
DOMAIN = "messages"
YES = ("o", "oui")
NO = ("n", "non")


def activate() -> None:
    """Make click speak French in this process, whatever the system's language settings."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    # gettext picks the language from LANGUAGE first: the command line speaks French everywhere.
    os.environ["LANGUAGE"] = "fr"


class YesNo(click.ParamType):
    """An answer « o »/« oui » or « n »/« non » (any case), as a bool."""

    name = "oui/non"

    def convert(self, value, param, ctx) -> bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
        self.fail("répondez « o » (oui) ou « n » (non).", param, ctx)


def confirm(question: str, *, default: bool = False, abort: bool = False, err: bool = False) -> bool:
    """Ask a yes/no question in French (« [o/N] »); with `abort`, a « non » stops the command."""
    suffix = " [O/n] " if default else " [o/N] "
    answer = click.prompt(
        question, default=default, type=YesNo(), show_default=False, prompt_suffix=suffix, err=err
    )
    if abort and not answer:
        raise click.Abort()
    return answer
