from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from smart_shared.auth import Principal, mint_token, read_token, visible_or_404
from smart_shared.clock import FixedClock
from smart_shared.problems import Problem
from smart_shared.rulepacks import UnknownRulePack, rule_pack
from smart_shared.settings import Settings

SECRET = "test-secret-of-at-least-32-bytes!!"
SETTINGS = Settings(SMART_JWT_SECRET=SECRET)  # type: ignore[call-arg]


def test_a_minted_token_reads_back_as_its_principal() -> None:
    token = mint_token(SETTINGS, "member", "BE", member_id="m-1")
    assert read_token(SETTINGS, token) == Principal("m-1", "member", "BE", "m-1")


@pytest.mark.parametrize("tamper", ["expired", "wrong_secret", "none_alg", "garbage", "no_member"])
def test_bad_tokens_are_refused(tamper: str) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "x", "role": "member", "branch": "BE", "member_id": "m-1",
              "exp": now + timedelta(hours=1)}
    if tamper == "expired":
        token = jwt.encode({**claims, "exp": now - timedelta(seconds=5)}, SECRET, "HS256")
    elif tamper == "wrong_secret":
        token = jwt.encode(claims, "another-secret-of-at-least-32-bytes", "HS256")
    elif tamper == "none_alg":
        token = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    elif tamper == "no_member":
        token = jwt.encode({k: v for k, v in claims.items() if k != "member_id"}, SECRET)
    else:
        token = "not.a.token"
    with pytest.raises(Problem) as refused:
        read_token(SETTINGS, token)
    assert refused.value.status == 401


def test_a_member_only_reaches_their_own_data_and_staff_their_branch() -> None:
    member = Principal("m-1", "member", "BE", "m-1")
    staff = Principal("s", "staff", "BE")
    assert member.sees("m-1", "BE") and not member.sees("m-2", "BE")
    assert staff.sees("m-2", "BE") and not staff.sees("m-2", "FR")
    with pytest.raises(Problem):
        member.require_member_or_staff("m-2", "BE")
    with pytest.raises(Problem):
        staff.require_branch("FR")


def test_a_record_the_caller_may_not_see_is_answered_like_an_unknown_one() -> None:
    member = Principal("m-1", "member", "BE", "m-1")
    own = {"_id": "i-1", "member_id": "m-1", "branch": "BE"}
    assert visible_or_404(member, own, "Invoice", "i-1") is own
    answers = []
    for found in (None, {**own, "member_id": "m-2"}, {**own, "branch": "FR"}):
        with pytest.raises(Problem) as refused:
            visible_or_404(member, found, "Invoice", "i-1")
        answers.append((refused.value.status, refused.value.detail))
    assert len(set(answers)) == 1 and answers[0][0] == 404


def test_rule_packs_give_every_number_a_source() -> None:
    be = rule_pack("BE", date(2026, 6, 1))
    assert str(be.common.fee_rate.value) == "0.065" and be.common.fee_rate.source
    assert str(rule_pack("FR", date(2026, 6, 1)).common.fee_rate.value) == "0.085"
    with pytest.raises(UnknownRulePack):
        rule_pack("BE", date(2025, 12, 31))


def test_settings_validate_branches() -> None:
    assert Settings(SMART_BRANCHES="be, fr").branches == ["BE", "FR"]  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(SMART_BRANCHES="BEL")  # type: ignore[call-arg]


def test_the_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    assert clock.today() == date(2026, 2, 1)  # already the 1st in Brussels
    clock.advance(timedelta(days=30))
    assert clock.today() == date(2026, 3, 3)
