"""The token's shape check (redaction.token_problem): said before a token is sent or
registered for redaction, so its message never quotes the token."""

from __future__ import annotations

import logging

import pytest

from tap_coda import redaction


@pytest.mark.parametrize("length", [1, 5, redaction.MIN_TOKEN_CHARS - 1])
def test_a_token_too_short_to_be_codas_is_refused_by_length_alone(length: int) -> None:
    token = "§" * length
    problem = redaction.token_problem(token)
    assert problem is not None
    assert f"is {length} character" in problem
    assert "§" not in problem  # the token itself is not quoted


def test_a_token_as_long_as_codas_passes() -> None:
    assert redaction.token_problem("0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f") is None
    assert redaction.token_problem("t" * redaction.MIN_TOKEN_CHARS) is None


def test_a_registered_token_of_the_shortest_length_leaves_other_text_readable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Why the floor: masking a token garbles only text that holds the whole token."""
    token = "tok-" + "e" * (redaction.MIN_TOKEN_CHARS - 4)
    redaction.register_secret(token)
    line = f"reading the docs list of everyone; Bearer {token}"
    assert redaction.redact(line) == "reading the docs list of everyone; Bearer [redacted]"
    with caplog.at_level(logging.INFO):
        logging.getLogger("tap-coda.test").info("the tree seen: %s", "three pages")
    assert "the tree seen: three pages" in caplog.text
