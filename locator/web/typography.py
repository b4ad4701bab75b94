"""French typography of what pages show: the typographic apostrophe in stored names and addresses."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

# A straight apostrophe between two letters is an elision (« l'Isère », « Cournon-d'Auvergne »): the
# sources write it straight, French typography writes ’. Quotes around words are left alone.
_ELISION = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")


def display(value: Any) -> Any:
    """Jinja's finalize: every `{{ … }}` text value with its elisions written ’ (markup left as it is)."""
    if type(value) is str and "'" in value:
        return _ELISION.sub("’", value)
    return value


def text(value: str) -> str:
    """The same rule for text built in Python (JSON messages, exports stay as stored)."""
    return _ELISION.sub("’", value) if "'" in value else value


def as_typed(value: Any) -> Markup:
    """A form field's value exactly as stored or typed (escaped, but no typography): sent back as is."""
    return escape("" if value is None else value)
