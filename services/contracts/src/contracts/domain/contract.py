"""The contract aggregate: a member's work for a client, from draft to completion.

Each step checks the lifecycle and the dates, changes the contract and returns the public event
it causes (if any), numbered with the contract's next version.
"""

from __future__ import annotations

import hmac
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from smart_shared.events import (
    Activity,
    Client,
    ContractCancelled,
    ContractSigned,
    EmploymentDeclared,
    InsuranceCover,
    WorkCompleted,
    WorkNature,
)
from smart_shared.money import Money

from contracts.domain.insurance import cover_ended, cover_of
from contracts.domain.lifecycle import (
    NOT_YET_BINDING,
    ContractStatus,
    TransitionRefused,
    ensure_can_move,
)
from contracts.domain.rules import InsuranceRules
from contracts.domain.signing import (
    SignatureEvidence,
    SigningLink,
    TermsChanged,
    check_signing_link,
    terms_digest,
)

S = ContractStatus


class SigningState(BaseModel):
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class ClientSignature(BaseModel):
    signed_at: datetime
    ip: str
    signer_name: str | None = None
    user_agent: str | None = None
    terms_sha256: str | None = None


class Declaration(BaseModel):
    """The employment declaration to social security and its retries."""

    reference: str | None = None
    declared_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    cancel_pending: bool = False
    cancelled_at: datetime | None = None


class Contract(BaseModel):
    model_config = ConfigDict(validate_assignment=False)

    contract_id: str
    branch: str
    member_id: str
    activity: Activity
    client: Client
    description: str
    work_days: list[date]
    amount_excl_vat: Money
    expenses: Money
    payment_term_days: int = Field(ge=0, le=60)
    work_nature: WorkNature = "other"
    status: ContractStatus = S.DRAFT
    version: int = Field(0, description="Version of the last event published for this contract.")
    created_at: datetime
    created_by: str
    signing: SigningState | None = None
    client_signature: ClientSignature | None = None
    signed_at: datetime | None = None
    validation_refused: str | None = None
    traceparent: str | None = None
    declaration: Declaration = Field(default_factory=Declaration)
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    insurance: InsuranceCover | None = Field(
        None, description="The insurance cover recorded when SMart validated the contract.")

    @property
    def first_work_day(self) -> date:
        return self.work_days[0]

    @property
    def last_work_day(self) -> date:
        return self.work_days[-1]

    def _next_version(self) -> int:
        self.version += 1
        return self.version

    def submit(self, link: SigningLink, now: datetime) -> None:
        """Ready for the client: a new signing link replaces any earlier one."""
        ensure_can_move(self.status, S.SUBMITTED)
        self.status = S.SUBMITTED
        self.signing = SigningState(token_hash=link.token_hash, issued_at=now,
                                    expires_at=link.expires_at)

    @property
    def terms(self) -> dict[str, Any]:
        """What the client agrees to, as shown on the signing page and hashed as evidence."""
        return {
            "contract_id": self.contract_id, "branch": self.branch,
            "member_id": self.member_id, "activity": self.activity.name,
            "client": self.client.model_dump(mode="json"), "description": self.description,
            "work_days": [day.isoformat() for day in self.work_days],
            "amount_excl_vat": self.amount_excl_vat.model_dump(mode="json"),
            "expenses": self.expenses.model_dump(mode="json"),
            "payment_term_days": self.payment_term_days,
            # only when chosen, so the terms of contracts drafted before it keep their digest
            **({"work_nature": self.work_nature} if self.work_nature != "other" else {}),
        }

    def check_signing_token(self, token: str, now: datetime) -> None:
        """Refuse a token that cannot sign this contract now (without using it)."""
        if self.status != S.SUBMITTED or self.signing is None:
            raise TransitionRefused(
                self.status, S.SIGNED_BY_CLIENT,
                f"a {self.status.value} contract cannot be signed by the client")
        check_signing_link(self.signing.token_hash, token, self.signing.expires_at,
                           self.signing.used_at, now)

    def sign_by_client(self, token: str, ip: str, now: datetime,
                       traceparent: str | None,
                       evidence: SignatureEvidence | None = None) -> None:
        """The client signed through the link (``SigningRefused`` for a bad, used or expired
        token; ``TermsChanged`` when the evidence names other terms). ``traceparent`` ties the
        later steps to this signature's trace."""
        self.check_signing_token(token, now)
        if evidence is not None and not hmac.compare_digest(
                evidence.terms_sha256, terms_digest(self.terms)):
            raise TermsChanged("the terms signed are not the contract's terms")
        assert self.signing is not None
        self.signing.used_at = now
        self.status = S.SIGNED_BY_CLIENT
        self.client_signature = ClientSignature(
            signed_at=now, ip=(evidence.address if evidence and evidence.address else ip),
            signer_name=evidence.signer_name if evidence else None,
            user_agent=evidence.user_agent if evidence else None,
            terms_sha256=evidence.terms_sha256 if evidence else None)
        self.traceparent = traceparent

    def validate_for_smart(self, member_active: bool, today: date, now: datetime,
                           insurance: InsuranceRules) -> ContractSigned | None:
        """SMart's validation after the client's signature: the member is still active and the
        work has not started. Refused → stays ``signed_by_client`` with the reason noted.
        Validated → covered by ``insurance``, the branch's policies in force today."""
        ensure_can_move(self.status, S.SIGNED)
        if not member_active:
            self.validation_refused = "the member is not active"
            return None
        if self.first_work_day <= today:
            self.validation_refused = "the first work day is no longer in the future"
            return None
        assert self.client_signature is not None
        self.status = S.SIGNED
        self.signed_at = now
        self.validation_refused = None
        self.insurance = cover_of(insurance, self.work_days, self.amount_excl_vat.currency)
        return ContractSigned(
            branch=self.branch, version=self._next_version(), occurred_at=now,
            contract_id=self.contract_id, member_id=self.member_id, activity=self.activity,
            client=self.client, description=self.description, work_days=self.work_days,
            first_work_day=self.first_work_day, last_work_day=self.last_work_day,
            amount_excl_vat=self.amount_excl_vat, expenses=self.expenses,
            payment_term_days=self.payment_term_days, work_nature=self.work_nature,
            client_signed_at=self.client_signature.signed_at, signed_at=now,
            insurance=self.insurance,
        )

    def declaration_failed(self, error: str, now: datetime, retry_at: datetime) -> None:
        """The gateway refused or did not answer: try again at ``retry_at``."""
        self.declaration.attempts += 1
        self.declaration.last_error = error
        self.declaration.next_attempt_at = retry_at

    def record_declaration(self, reference: str, now: datetime) -> EmploymentDeclared:
        """The gateway accepted the declaration under ``reference``."""
        ensure_can_move(self.status, S.DECLARED)
        self.status = S.DECLARED
        self.declaration.attempts += 1
        self.declaration.reference = reference
        self.declaration.declared_at = now
        self.declaration.last_error = None
        self.declaration.next_attempt_at = None
        return EmploymentDeclared(
            branch=self.branch, version=self._next_version(), occurred_at=now,
            contract_id=self.contract_id, member_id=self.member_id,
            declaration_reference=reference, declared_at=now,
        )

    def is_declaration_late(self, today: date, alert_days: int) -> bool:
        """Signed but still undeclared with the first work day at most ``alert_days`` away."""
        return self.status == S.SIGNED and (self.first_work_day - today).days <= alert_days

    def complete(self, today: date, now: datetime) -> WorkCompleted:
        """The last work day is over."""
        ensure_can_move(self.status, S.COMPLETED)
        if today <= self.last_work_day:
            raise TransitionRefused(self.status, S.COMPLETED,
                                    "the last work day is not over yet")
        self.status = S.COMPLETED
        self.completed_at = now
        return WorkCompleted(
            branch=self.branch, version=self._next_version(), occurred_at=now,
            contract_id=self.contract_id, member_id=self.member_id,
            last_work_day=self.last_work_day, completed_at=now,
        )

    def cancel(self, reason: str, today: date, now: datetime) -> ContractCancelled:
        """Cancelled; once SMart validated it, only before the first work day. A declaration
        made is to be cancelled too (``declaration.cancel_pending``), and the insurance cover
        ends today."""
        ensure_can_move(self.status, S.CANCELLED)
        if self.status not in NOT_YET_BINDING and today >= self.first_work_day:
            raise TransitionRefused(self.status, S.CANCELLED,
                                    "the work has started: a contract is cancelled only before "
                                    "its first work day")
        if self.status == S.DECLARED:
            self.declaration.cancel_pending = True
        self.status = S.CANCELLED
        self.cancelled_at = now
        self.cancel_reason = reason
        if self.signing and self.signing.used_at is None:
            self.signing = None
        if self.insurance is not None:
            self.insurance = cover_ended(self.insurance, today)
        return ContractCancelled(
            branch=self.branch, version=self._next_version(), occurred_at=now,
            contract_id=self.contract_id, member_id=self.member_id,
            reason=reason, cancelled_at=now,
            insurance_ended_on=self.insurance.ended_on if self.insurance else None,
        )
