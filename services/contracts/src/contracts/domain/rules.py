"""The contracts section of a branch's rule pack: payment terms, signing links, declaration
alerts, and the insurance policies that cover every signed contract."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from smart_shared.events import ClientKind
from smart_shared.rulepacks import Sourced, SourcedDecimal, SourcedInt


class PolicyRules(BaseModel):
    """One insurance policy of the branch: who insures, under which number, what and how far."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insurer: Sourced[str]
    policy_number: Sourced[str]
    covers: Sourced[str]
    limit_per_claim: SourcedDecimal | None = None
    during: Literal["work_days", "from_first_contract"] = "work_days"

    @property
    def placeholder(self) -> bool:
        """A stand-in value (a local deployment's), not the branch's real policy."""
        limit = self.limit_per_claim
        return (self.insurer.placeholder or self.policy_number.placeholder
                or (limit is not None and limit.placeholder))


class InsuranceRules(BaseModel):
    """The employer's obligation to insure and the policies of every signed contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    obligation: Sourced[str]
    work_accident: PolicyRules
    civil_liability: PolicyRules
    accident_in_life: PolicyRules | None = None


class ContractRules(BaseModel):
    """``packs/<branch>-<year>/contracts.toml``: every number with its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_payment_term_days: SourcedInt
    max_business_payment_term_days: SourcedInt
    signing_link_valid_days: SourcedInt
    declaration_alert_days: SourcedInt
    insurance: InsuranceRules


class PaymentTermRefused(ValueError):
    """The payment term asked for is not allowed for this client."""


def payment_term(rules: ContractRules, kind: ClientKind, asked: int | None) -> int:
    """The contract's payment term in days: the branch default unless a business client agreed
    another one up to the branch maximum; consumers always get the branch default."""
    default = rules.default_payment_term_days.value
    if asked is None:
        return default
    if asked < 0:
        raise PaymentTermRefused("must not be negative")
    if kind == "consumer":
        if asked != default:
            raise PaymentTermRefused(f"a consumer's payment term is the branch's {default} days")
        return asked
    limit = rules.max_business_payment_term_days.value
    if asked > limit:
        raise PaymentTermRefused(f"at most {limit} days for a business client")
    return asked
