"""One answer to "does the caller want JSON?" and one Content-Security-Policy builder for every page."""

from __future__ import annotations

import pytest
from flask import Flask

from locator.web.negotiation import wants_json
from locator.web.security import content_security_policy


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/api/v1/communes", {}, True),
        ("/healthz", {}, True),
        ("/admin/qualite/carte.json", {}, True),
        ("/admin/structures", {"Accept": "application/json"}, True),
        ("/admin/structures", {"Content-Type": "application/json"}, True),
        ("/admin/structures", {"Accept": "text/html,application/json;q=0.9"}, False),
        ("/recherche", {}, False),
    ],
)
def test_wants_json_for_the_api_json_routes_and_json_callers(path, headers, expected):
    with Flask(__name__).test_request_context(path, headers=headers):
        assert wants_json() is expected


def test_policy_keeps_scripts_objects_and_framing_in_hand():
    csp = content_security_policy(
        script="'self'", tiles="https://tile.example", base_uri="'none'", frame_ancestors="'none'"
    )
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["img-src"] == "'self' data: https://tile.example"
    assert directives["base-uri"] == "'none'" and directives["frame-ancestors"] == "'none'"
