"""The ``smart`` command: every option says what it is for; every mistake is one line, exit 2."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from smart_shared.cli import main, parser
from smart_shared.settings import Settings
from smart_testing import free_port


def commands() -> dict[str, argparse.ArgumentParser]:
    every = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(every.choices)


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What ``smart ARGV`` says on stderr, checked to be one line with exit status 2."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_every_option_of_every_command_says_what_it_is_for() -> None:
    found = 0
    for name, command in commands().items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
            found += 1
    assert found == 24  # every option of the eight commands
    assert set(commands()) == {"token", "clock", "dlq", "schemas", "trace", "asyncapi", "staff",
                               "mail"}


def test_a_token_lifetime_that_is_not_a_duration_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = refusal(["token", "--role", "staff", "--branch", "BE", "--ttl", "1y"], capsys)
    assert line.startswith("smart token: argument --ttl: '1y' is not a duration")
    assert "30d, 12h, 90m" in line


def test_moving_the_clock_by_something_that_is_not_a_duration_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = refusal(["clock", "advance", "a month"], capsys)
    assert line.startswith("smart clock: argument by: 'a month' is not a duration")


@pytest.mark.parametrize("argv", [
    ["token", "--role", "staff", "--branch", "XX"],
    ["token", "--role", "staff", "--branch", "be"],
    ["staff", "add", "--email", "ana@smart.coop", "--name", "Ana", "--branch", "NL"],
])
def test_a_branch_without_a_rule_pack_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    line = refusal(argv, capsys)
    assert "is not a branch with a rule pack (one of BE, FR)" in line


def test_a_member_token_needs_the_member_it_speaks_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert refusal(["token", "--role", "member", "--branch", "BE"], capsys) == (
        "smart token: a member token needs --member-id")


def test_an_unknown_action_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    line = refusal(["dlq", "purge", "smart.billing.invoice.v1"], capsys)
    assert "invalid choice: 'purge'" in line and "smart dlq --help" in line


def test_a_token_is_minted_for_a_branch_with_a_rule_pack_and_the_lifetime_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["token", "--role", "staff", "--branch", "FR", "--ttl", "90m"])
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, Settings().jwt_secret, algorithms=["HS256"])
    assert (claims["role"], claims["branch"]) == ("staff", "FR")
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    assert abs(expires - datetime.now(UTC) - timedelta(minutes=90)) < timedelta(minutes=1)


def test_a_broker_that_cannot_be_reached_is_said_in_one_line_with_exit_2() -> None:
    # a separate process: whatever the Kafka client would print shows up here
    unreachable = f"127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "smart_shared.cli", "dlq", "list", "smart.billing.invoice.v1"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": unreachable})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [f"smart dlq: cannot reach Kafka at {unreachable}"]
