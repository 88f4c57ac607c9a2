"""Pure collection rules: schedules, late interest, damages, claims, letters, payment plans."""

from collection.domain.claims import Claim, claim_at
from collection.domain.damages import book_xix_damages
from collection.domain.interest import BalanceChange, NoRateKnown, late_interest, rate_on
from collection.domain.letters import (
    CreditorFacts,
    Letter,
    LetterFacts,
    MayFollow,
    compose_letter,
    render_letter,
)
from collection.domain.plan import Instalment, first_unkept, missed_instalment, plan_errors
from collection.domain.rules import (
    LEVELS,
    CollectionRules,
    DebtorRules,
    collection_rules,
    creditor,
)
from collection.domain.schedule import (
    CaseState,
    PlannedStep,
    TakenStep,
    pay_by,
    planned_step,
    step_due,
)

__all__ = [
    "LEVELS",
    "BalanceChange",
    "CaseState",
    "Claim",
    "CollectionRules",
    "CreditorFacts",
    "DebtorRules",
    "Instalment",
    "Letter",
    "LetterFacts",
    "MayFollow",
    "NoRateKnown",
    "PlannedStep",
    "TakenStep",
    "book_xix_damages",
    "claim_at",
    "collection_rules",
    "compose_letter",
    "creditor",
    "first_unkept",
    "late_interest",
    "missed_instalment",
    "pay_by",
    "plan_errors",
    "planned_step",
    "rate_on",
    "render_letter",
    "step_due",
]
