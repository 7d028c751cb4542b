"""The Rasa server starts whatever its API token looks like (generated ones may start with '-')."""

from __future__ import annotations

import pytest

from rasa_ext.rasa_server import with_auth_token


@pytest.mark.parametrize("token", ["-Zx0dash-first", "--double", "plain_token"])
def test_rasas_own_parser_reads_any_token(token: str) -> None:
    from rasa.__main__ import create_argument_parser

    args = with_auth_token(["run", "--port", "5005"], lambda: token)
    parsed = create_argument_parser().parse_args(args)
    assert parsed.auth_token == token
    assert parsed.port == 5005


def test_a_token_given_on_the_command_line_is_kept() -> None:
    def never() -> str:
        raise AssertionError("no token is generated when one is given")

    for given in (["run", "--auth-token", "mine"], ["run", "--auth-token=mine"]):
        assert with_auth_token(given, never) == given
