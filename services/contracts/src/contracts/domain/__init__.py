"""Pure rules of contracts: lifecycle, work days, clients, signing links, members."""

from contracts.domain.clients import ClientDetails, ClientRefused, client_key, make_client
from contracts.domain.contract import Contract
from contracts.domain.declaration import Employment, EmploymentGateway, GatewayUnavailable
from contracts.domain.insurance import cover_ended, cover_of, covered_days, is_covered
from contracts.domain.lifecycle import ContractStatus, TransitionRefused
from contracts.domain.members import KnownMember, member_after
from contracts.domain.rules import (
    ContractRules,
    InsuranceRules,
    PaymentTermRefused,
    PolicyRules,
    payment_term,
)
from contracts.domain.signing import (
    SignatureEvidence,
    SigningRefused,
    TermsChanged,
    issue_signing_link,
    terms_digest,
)
from contracts.domain.work_days import WorkDaysRefused, checked_work_days

__all__ = [
    "ClientDetails",
    "ClientRefused",
    "Contract",
    "ContractRules",
    "ContractStatus",
    "Employment",
    "EmploymentGateway",
    "GatewayUnavailable",
    "InsuranceRules",
    "KnownMember",
    "PaymentTermRefused",
    "PolicyRules",
    "SignatureEvidence",
    "SigningRefused",
    "TermsChanged",
    "TransitionRefused",
    "WorkDaysRefused",
    "checked_work_days",
    "client_key",
    "cover_ended",
    "cover_of",
    "covered_days",
    "is_covered",
    "issue_signing_link",
    "make_client",
    "member_after",
    "payment_term",
    "terms_digest",
]
