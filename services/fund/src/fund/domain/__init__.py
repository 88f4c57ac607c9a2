"""The fund's rules: the ledger, the guarantee decision and a guarantee's life. No I/O."""

from smart_shared.events.catalogue import DeclineReason

from fund.domain.decision import (
    Decision,
    GuaranteePolicy,
    GuaranteeRequest,
    decide_guarantee,
    salary_cost,
)
from fund.domain.guarantee import (
    Guarantee,
    capital_injection,
    contract_transfer_ids,
    contribution,
    transfer_id,
)
from fund.domain.ledger import (
    ACCOUNTS,
    NORMAL_SIDE,
    Account,
    FloorBreached,
    GuaranteeReserveNeeded,
    Ledger,
    Transfer,
    TransferKind,
    balances_from,
    check_floors,
    check_lending_floor,
    coverage_ratio,
    is_balanced,
    lendable,
    post_in_order,
    zero_balances,
)

__all__ = [
    "ACCOUNTS",
    "NORMAL_SIDE",
    "Account",
    "Decision",
    "DeclineReason",
    "FloorBreached",
    "Guarantee",
    "GuaranteePolicy",
    "GuaranteeRequest",
    "GuaranteeReserveNeeded",
    "Ledger",
    "Transfer",
    "TransferKind",
    "balances_from",
    "capital_injection",
    "check_floors",
    "check_lending_floor",
    "contract_transfer_ids",
    "contribution",
    "coverage_ratio",
    "decide_guarantee",
    "is_balanced",
    "lendable",
    "post_in_order",
    "salary_cost",
    "transfer_id",
    "zero_balances",
]
