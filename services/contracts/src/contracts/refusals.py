"""What the contract's use cases answer when a step is refused: the problems they raise, and the
branch's contract rules (409 for a branch that no rule pack serves)."""

from __future__ import annotations

from datetime import date

from smart_shared.problems import Problem
from smart_shared.rulepacks import UnknownRulePack, rule_pack

from contracts.domain import ContractRules, SigningRefused, TransitionRefused


def contract_rules(branch: str, today: date) -> ContractRules:
    """The contracts section of the branch's rule pack in force today."""
    try:
        return rule_pack(branch, today).section("contracts", ContractRules)
    except UnknownRulePack:
        raise Problem(409, "Branch not served", f"No contract rules for branch {branch}",
                      "branch-not-served") from None


def status_refused(error: TransitionRefused) -> Problem:
    return Problem(409, "Not allowed in this status", error.why, "contract-status",
                   status_now=error.current.value)


def link_refused(error: SigningRefused) -> Problem:
    return Problem(404 if error.reason == "unknown" else 410, "Signing link not usable",
                   error.detail, f"signing-link-{error.reason}")


def link_unknown() -> Problem:
    return Problem(404, "Signing link not valid", "This signing link is not valid",
                   "signing-link-unknown")


LINK_USED = Problem(410, "Signing link not usable", "This signing link was used already or "
                    "its contract was cancelled", "signing-link-used")
