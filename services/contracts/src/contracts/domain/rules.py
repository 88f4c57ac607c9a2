"""The contracts section of a branch's rule pack, and the payment term rule it feeds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from smart_shared.events import ClientKind
from smart_shared.rulepacks import SourcedInt


class ContractRules(BaseModel):
    """``packs/<branch>-<year>/contracts.toml``: every number with its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_payment_term_days: SourcedInt
    max_business_payment_term_days: SourcedInt
    signing_link_valid_days: SourcedInt
    declaration_alert_days: SourcedInt


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
