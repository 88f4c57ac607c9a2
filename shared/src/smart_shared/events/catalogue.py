"""The event catalogue: every event the platform publishes, the public contract of the platform.

Each event's docstring says when it is published and what a subscriber may rely on; they become
the AsyncAPI documentation.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from smart_shared.events.base import Event
from smart_shared.money import ExactDecimal, Money

MEMBERS_TOPIC = "smart.members.member.v1"
CONTRACTS_TOPIC = "smart.contracts.contract.v1"
BILLING_TOPIC = "smart.billing.invoice.v1"
PAYROLL_TOPIC = "smart.payroll.salary.v1"
FUND_TOPIC = "smart.fund.guarantee.v1"
LOANS_TOPIC = "smart.fund.loan.v1"
COLLECTION_TOPIC = "smart.collection.case.v1"

TOPICS = (
    MEMBERS_TOPIC,
    CONTRACTS_TOPIC,
    BILLING_TOPIC,
    PAYROLL_TOPIC,
    FUND_TOPIC,
    LOANS_TOPIC,
    COLLECTION_TOPIC,
)


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


ActivityKind = Literal["artistic", "manual", "other"]
MemberStatus = Literal["applicant", "active", "suspended", "left", "erased"]
ClientKind = Literal["business", "consumer"]
Language = Literal["fr", "nl", "en"]
WorkNature = Literal["other", "copyright", "performance", "performance_for_organiser"]
"""What the contract sells, which decides its VAT: a copyright transfer or licence by its author,
a performance by a performer (for an organiser of shows, a record publisher or a film producer),
or other work."""


class Activity(_Part):
    """What a member does, which decides the payroll rules that apply."""

    name: str = Field(description="E.g. 'musician', 'graphic designer'.")
    kind: ActivityKind = Field(
        description="artistic and manual: social base 108 %; artistic: flat withholding."
    )
    joint_committee: str = Field(
        description="Joint committee: '304' performing arts, '200' default."
    )


class PayoutDetails(_Part):
    """Where the member's salary goes. Only payroll needs it; it is personal data."""

    iban: str
    holder_name: str


class Address(_Part):
    street: str
    postal_code: str
    city: str
    country: str = Field(description="ISO 3166 alpha-2.")


class MemberContact(_Part):
    """How services that write to the member reach them (payroll's payslip, contracts' signed
    contract): their name, address and language. Purged with the rest on ``MemberErased``."""

    name: str
    email: str
    language: Language | None = Field(None, description="None: the branch's language.")
    address: Address | None = Field(None, description="Where the member lives, as the payslip "
                                    "prints it; absent from events published before it was "
                                    "carried.")


class Client(_Part):
    """The member's client, who signs the contract and receives the invoice."""

    client_key: str = Field(
        description="Stable client identity within a branch (VAT number, or normalised name and "
        "country for consumers): the unit of the fund's exposure cap."
    )
    name: str
    kind: ClientKind
    country: str = Field(description="ISO 3166 alpha-2.")
    email: str
    address: Address
    vat_number: str | None = Field(None, description="Validated EU VAT number (business only).")
    language: Language = "en"


InsuranceKind = Literal["work_accident", "civil_liability", "accident_in_life"]


class InsurancePolicy(_Part):
    """One of the branch's insurance policies that covers a contract, as its rule pack says."""

    kind: InsuranceKind
    insurer: str
    policy_number: str
    covers: str = Field(description="What the policy covers, in the words of the rule pack.")
    limit_per_claim: Money | None = Field(
        None, description="The insurer's limit per claim; None: the compensation the law sets "
        "(work accidents).")
    during: Literal["work_days", "from_first_contract"] = Field(
        description="work_days: the contract's work days; from_first_contract: the member "
        "beyond the work days, from their first contract on.")
    source: str = Field(description="Where the cover is described (law, SMart's own pages).")
    placeholder: bool = Field(
        False, description="True: the insurer, policy number or limit is a labelled stand-in "
        "of a local deployment, not the branch's real policy.")


class InsuranceCover(_Part):
    """The insurance of a signed contract: the branch's policies in force the day SMart
    validated it, covering the member from the first work day to the last."""

    covered_from: date = Field(description="The first work day.")
    covered_until: date = Field(description="The last work day.")
    obligation: str = Field(description="The law that makes the employer insure its workers.")
    policies: list[InsurancePolicy]
    ended_on: date | None = Field(
        None, description="The contract was cancelled that day: nothing is covered from it on.")


# ------------------------------------------------------------------------------------- members


class _MemberEvent(Event):
    service = "members"
    topic = MEMBERS_TOPIC
    aggregate_field = "member_id"
    member_id: str


class MemberRegistered(_MemberEvent):
    """An applicant registered. Not yet allowed to sign contracts: that needs a paid share."""

    activities: list[Activity]


class MemberActivated(_MemberEvent):
    """The member's first cooperative share was paid: they may now sign contracts."""

    activities: list[Activity]
    payout: PayoutDetails
    contact: MemberContact | None = None


class MemberUpdated(_MemberEvent):
    """The member's status, activities or payout details changed. Carries the full current state
    of each, so a subscriber's projection needs only the latest version."""

    status: MemberStatus
    activities: list[Activity]
    payout: PayoutDetails
    changed: list[str] = Field(description="Names of the fields that changed.")
    contact: MemberContact | None = None


class MemberErased(_MemberEvent):
    """GDPR erasure: every subscriber purges what it holds about this member, except what the law
    requires it to keep (invoices: 7 years)."""


# ----------------------------------------------------------------------------------- contracts


class _ContractEvent(Event):
    service = "contracts"
    topic = CONTRACTS_TOPIC
    aggregate_field = "contract_id"
    contract_id: str
    member_id: str


class ContractSigned(_ContractEvent):
    """The client signed and SMart validated: the contract binds. Carries everything billing,
    payroll and the fund need to act on it, and the insurance that covers its work days (the
    branch's policies: insurer, policy number, what is covered and up to what)."""

    activity: Activity
    client: Client
    description: str
    work_days: list[date]
    first_work_day: date
    last_work_day: date
    amount_excl_vat: Money
    expenses: Money
    payment_term_days: int = Field(ge=0, le=60)
    client_signed_at: datetime
    signed_at: datetime
    insurance: InsuranceCover | None = Field(
        None, description="The contract's insurance cover (work accident, civil liability, and "
        "what else the branch's policies cover), recorded at the validation; absent from events "
        "published before contracts recorded it.")
    work_nature: WorkNature = Field(
        "other", description="What the work is, for its VAT category: 'copyright' (a transfer "
        "or licence of the author's rights, not software), 'performance' (a performer's work), "
        "'performance_for_organiser' (the same, supplied to an organiser of shows or concerts, a "
        "record publisher or a film producer), 'other' (absent from events published before it "
        "was carried).")


class EmploymentDeclared(_ContractEvent):
    """The employment was declared to social security (Dimona-like) before the first work day."""

    declaration_reference: str
    declared_at: datetime


class WorkCompleted(_ContractEvent):
    """The last work day is over: billing invoices the client, payroll computes the salary."""

    last_work_day: date
    completed_at: datetime


class ContractCancelled(_ContractEvent):
    """Cancelled before its first work day; the declaration, if any, was cancelled too, and the
    insurance cover recorded at the signature ends (``insurance_ended_on``)."""

    reason: str
    cancelled_at: datetime
    insurance_ended_on: date | None = Field(
        None, description="The day the contract's insurance cover ended (the cancellation's "
        "day, Brussels time); None when the contract was never covered (not validated yet).")


# ------------------------------------------------------------------------------------- billing


class _InvoiceEvent(Event):
    service = "billing"
    topic = BILLING_TOPIC
    aggregate_field = "invoice_id"
    invoice_id: str
    contract_id: str
    member_id: str


class InvoiceIssued(_InvoiceEvent):
    """An invoice was issued for a completed contract, with its gapless number."""

    number: str = Field(description="{branch}-{year}-{seq:06}, gapless per branch and year.")
    issue_date: date
    due_date: date
    client_key: str
    client_kind: ClientKind
    amount_excl_vat: Money
    vat_rate: ExactDecimal
    vat_amount: Money
    total: Money
    reverse_charge: bool
    structured_reference: str | None = Field(
        None, description="Belgian structured communication +++ddd/dddd/ddddd+++ (BE invoices)."
    )


class PaymentReceived(_InvoiceEvent):
    """A payment was booked against the invoice (partial, full or over)."""

    payment_id: str
    amount: Money
    received_on: date
    balance_due: Money = Field(description="What remains to be paid after this payment (≥ 0).")
    credit: Money = Field(description="Overpayment kept as credit for the client (≥ 0).")


class InvoicePaid(_InvoiceEvent):
    """The balance reached zero: the fund recovers its advance, collection closes its case."""

    amount_excl_vat: Money
    total: Money
    paid_on: date


class DebtOverdue(_InvoiceEvent):
    """The due date passed with a balance left: collection opens a dunning case."""

    number: str
    client: Client
    issue_date: date
    due_date: date
    total: Money
    outstanding: Money
    description: str | None = Field(
        None, description="What was invoiced (the invoice's lines), which the letters name.")


class CreditNoteIssued(_InvoiceEvent):
    """A credit note reduced the invoice (staff correction, or the write-off of a lost debt)."""

    credit_note_id: str
    number: str = Field(description="{branch}-CN-{year}-{seq:06}, gapless per branch and year.")
    amount: Money = Field(description="Credited amount including VAT.")
    reason: str
    issue_date: date
    balance_due: Money


class CreditApplied(_InvoiceEvent):
    """The client's credit on this invoice (an overpayment) was deducted from their next
    invoice, which shows it as prepaid."""

    amount: Money = Field(description="Credit moved to the other invoice.")
    to_invoice_id: str
    to_number: str = Field(description="The number of the invoice it was deducted from.")
    credit: Money = Field(description="Credit left on this invoice (≥ 0).")


class OverpaymentRefunded(_InvoiceEvent):
    """Staff approved the refund of the client's credit on this invoice to the account it was
    paid from; the transfer goes out in the branch's next refund file (SEPA pain.001). The
    account itself stays out of the event."""

    refund_id: str
    amount: Money
    approved_on: date
    credit: Money = Field(description="Credit left on this invoice (≥ 0).")


DeliveredDocument = Literal["invoice", "credit_note"]


class InvoiceDelivered(_InvoiceEvent):
    """The invoice, or one of its credit notes, reached the client's Peppol access point
    (Belgian business clients receive their invoices through Peppol since 1 January 2026)."""

    document: DeliveredDocument
    document_id: str = Field(description="The invoice id, or the credit note's id.")
    number: str = Field(description="The number of the document delivered.")
    channel: Literal["peppol"] = "peppol"
    receiver: str = Field(description="The client's Peppol participant id "
                          "({scheme}:{identifier}, e.g. 9925:BE0123456789).")
    transmission_id: str = Field(description="The access point's id of the transmission.")
    delivered_at: datetime


class InvoiceDeliveryRejected(_InvoiceEvent):
    """Peppol refused the invoice or credit note for good (e.g. the client is not registered
    on Peppol); it is not sent again. Every invoice is also mailed to the client; a refused
    credit note waits for the branch's staff."""

    document: DeliveredDocument
    document_id: str = Field(description="The invoice id, or the credit note's id.")
    number: str = Field(description="The number of the document refused.")
    channel: Literal["peppol"] = "peppol"
    receiver: str = Field(description="The client's Peppol participant id.")
    reason: str
    rejected_at: datetime


# ------------------------------------------------------------------------------------- payroll


class ContributionLine(_Part):
    """One sourced contribution of a salary: ``rate`` of ``base``, rounded half-up to the cent."""

    name: str = Field(description="The contribution's key in the pack, e.g. 'wage_moderation'.")
    label: str = Field(description="The contribution in words (English; payslips translate it).")
    rate: ExactDecimal
    base: Money
    amount: Money
    approximation: bool = Field(
        False, description="The rule pack marks the rate as an approximation, not the law's.")


class SalaryBreakdown(_Part):
    """A salary computed from the branch rule pack; every amount rounded half-up to the cent."""

    rule_pack: str = Field(description="Identifier of the rule pack used, e.g. 'BE-2026'.")
    amount_excl_vat: Money
    fee: Money
    expenses: Money
    budget: Money
    gross: Money
    employer_contributions: Money
    employee_contributions: Money
    taxable: Money
    withholding_tax: Money
    net: Money
    paid: Money = Field(description="What reaches the member: net plus repaid expenses, less "
                        "any loan instalment withheld.")
    employer_lines: list[ContributionLine] = Field(
        default_factory=list, description="The employer contributions, line by line.")
    employee_lines: list[ContributionLine] = Field(
        default_factory=list, description="The employee contributions, line by line.")
    budget_remainder: Money | None = Field(
        None, description="What is left of the budget below the cost of one more cent of gross "
        "(counted in employer_contributions, never in a line).")
    loan_withheld: Money | None = Field(
        None, description="Loan instalments of the fund withheld from the net (never more than "
        "the loan's share of it); absent when nothing was withheld.")


class _SalaryEvent(Event):
    service = "payroll"
    topic = PAYROLL_TOPIC
    aggregate_field = "salary_id"
    salary_id: str
    contract_id: str
    member_id: str


class SalaryDue(_SalaryEvent):
    """A salary is payable on ``pay_date``: guaranteed (7th working day after the last work day)
    or, without guarantee, once the invoice was paid."""

    guaranteed: bool
    pay_date: date
    breakdown: SalaryBreakdown


class SalaryPaid(_SalaryEvent):
    """A payment run carrying this salary was confirmed by the bank."""

    amount: Money
    paid_on: date
    payment_run_id: str
    end_to_end_id: str


class SalaryPaymentRejected(_SalaryEvent):
    """The bank's status report (pain.002) rejected the transfer of this salary: the salary is
    due again, and ``code`` (ISO 20022 reason, e.g. AC04) and ``reason`` say why."""

    payment_run_id: str
    end_to_end_id: str
    code: str | None = Field(description="ISO 20022 status reason code, e.g. 'AC04' (closed "
                             "account), or the bank's own; none when the bank gave none.")
    reason: str = Field(description="The bank's additional information, else the code in words.")
    rejected_on: date


class InstalmentWithheld(_SalaryEvent):
    """Payroll withheld part or all of a due loan instalment from this salary's net (never
    more than the loan's share of the net, never making it negative): the fund books it."""

    loan_id: str
    number: int = Field(ge=1)
    amount: Money


# ---------------------------------------------------------------------------------------- fund

DeclineReason = Literal[
    "client_not_signed",
    "client_outside_eu",
    "client_cap_exceeded",
    "member_cap_exceeded",
    "fund_insufficient",
    "branch_not_covered",
]


class _FundEvent(Event):
    service = "fund"
    topic = FUND_TOPIC
    aggregate_field = "contract_id"
    contract_id: str
    member_id: str


class GuaranteeGranted(_FundEvent):
    """The fund reserved the salary cost: the member is paid on time even if the client is late."""

    client_key: str
    amount: Money = Field(description="Reserved salary cost (amount excl. VAT less the fee).")


class GuaranteeDeclined(_FundEvent):
    """No guarantee: the salary waits for the client's payment."""

    reason: DeclineReason
    detail: str


class AdvancePaid(_FundEvent):
    """The fund advanced the salary cost because the invoice was unpaid on the pay date."""

    salary_id: str
    amount: Money
    transfer_id: str


class AdvanceRecovered(_FundEvent):
    """The client paid: the advance (or the reservation) is released and the contribution booked."""

    invoice_id: str
    amount: Money = Field(description="Advance recovered (zero when nothing had been advanced).")
    contribution: Money = Field(description="1.0 % of the invoice excl. VAT, into the fund.")
    transfer_id: str


class LossAbsorbed(_FundEvent):
    """The debt was written off: the fund bears the loss of the advance."""

    invoice_id: str
    amount: Money
    transfer_id: str



# --------------------------------------------------------------------------------------- loans

Financing = Literal["microcredit", "leasing"]
LoanRefusal = Literal[
    "amount_below_minimum", "amount_above_maximum", "term_too_long", "term_too_short",
    "not_active_long_enough", "turnover_too_low", "recent_write_off", "loan_outstanding",
    "residual_out_of_range", "apr_above_legal_maximum",
]


class ScheduledInstalment(_Part):
    """One monthly instalment of a loan's repayment schedule."""

    number: int = Field(ge=1)
    due_date: date
    amount: Money = Field(description="Capital plus interest.")
    capital: Money
    interest: Money
    balance_after: Money = Field(description="Capital still owed once it is paid (a lease "
                                 "ends at its residual value).")


class _LoanEvent(Event):
    service = "fund"
    topic = LOANS_TOPIC
    aggregate_field = "loan_id"
    loan_id: str
    member_id: str


class LoanApplied(_LoanEvent):
    """A member applied for a microcredit or an equipment lease from the fund; ``refusals`` are
    the branch pack's conditions the application does not meet (empty: staff may approve)."""

    financing: Financing
    amount: Money = Field(description="Microcredit: the principal; leasing: the item's price.")
    months: int = Field(ge=1)
    purpose: str
    item: str | None = Field(None, description="Leasing: the equipment leased.")
    supplier: str | None = Field(None, description="Leasing: who sells the equipment.")
    residual: Money = Field(description="Leasing: the purchase option at the end (zero for a "
                            "microcredit).")
    refusals: list[LoanRefusal]
    applied_on: date


class LoanApproved(_LoanEvent):
    """Staff approved the loan: its repayment schedule (annuities to the cent, the last one
    absorbing the rounding), the annual percentage rate (Directive 2008/48/EC, Annex I) and its
    total cost are fixed; the money is paid out next."""

    financing: Financing
    amount: Money
    annual_rate: ExactDecimal = Field(description="Nominal yearly debit rate, 0.05 for 5 %.")
    apr: ExactDecimal = Field(description="Annual percentage rate, 0.0512 for 5.12 %.")
    fee: Money
    total_repayable: Money = Field(description="Every instalment, and a lease's residual.")
    total_cost: Money = Field(description="What the credit costs: the interest and the fee.")
    max_withholding_share: ExactDecimal = Field(
        description="The share of a salary's net payroll may withhold for an instalment.")
    schedule: list[ScheduledInstalment]
    approved_on: date
    mandate_id: str | None = Field(None, description="The SEPA direct debit mandate the member "
                                   "signs with the loan agreement, for what payroll cannot "
                                   "withhold.")
    mandate_signed_on: date | None = None


class LoanDeclined(_LoanEvent):
    """Staff declined the application, with the reason the member is given."""

    reason: str
    refusals: list[LoanRefusal] = Field(description="The pack's conditions not met, if any.")
    declined_on: date


class LoanDisbursed(_LoanEvent):
    """The bank confirmed the transfer paying the loan out (to the member, or to a lease's
    supplier): the fund's ledger moved it from the free balance to the loans receivable, and the
    schedule's instalments fall due from now on."""

    amount: Money
    paid_to: Literal["member", "supplier"]
    disbursement_id: str = Field(description="The SEPA credit transfer file that carried it.")
    transfer_id: str = Field(description="The fund ledger's transfer of the disbursement.")
    disbursed_on: date


class InstalmentDue(_LoanEvent):
    """An instalment of a disbursed loan fell due (by the platform clock): payroll withholds it
    from the member's next salaries, never more than ``max_withholding_share`` of a net."""

    number: int = Field(ge=1)
    due_date: date
    amount: Money = Field(description="What is due of the instalment.")
    max_withholding_share: ExactDecimal


class InstalmentPaid(_LoanEvent):
    """The fund booked a repayment of an instalment (capital back to the fund, interest as its
    income); what is left of the instalment stays due."""

    number: int = Field(ge=1)
    amount: Money
    capital: Money
    interest: Money
    salary_id: str | None = Field(description="The salary it was withheld from, if any.")
    collection_id: str | None = Field(None, description="The SEPA direct debit file that "
                                      "collected it, if any.")
    instalment_outstanding: Money = Field(description="What remains due of the instalment.")
    balance: Money = Field(description="Capital still owed on the loan.")
    paid_on: date


class DirectDebitRequested(_LoanEvent):
    """What payroll could not withhold of an instalment, the pack's number of days after its due
    date, went into a SEPA direct debit file (pain.008) under the loan's mandate: payroll stops
    withholding it until the bank answers."""

    number: int = Field(ge=1)
    amount: Money = Field(description="What the direct debit collects of the instalment.")
    collection_id: str = Field(description="The direct debit file.")
    end_to_end_id: str
    mandate_id: str
    collection_date: date


class DirectDebitReturned(_LoanEvent):
    """The member's bank returned the direct debit of an instalment: nothing was collected, the
    instalment stays due and payroll withholds it again from the next salaries."""

    number: int = Field(ge=1)
    amount: Money
    collection_id: str
    code: str | None = Field(description="ISO 20022 return reason code, e.g. 'AM04' "
                             "(insufficient funds), or none when the bank gave none.")
    returned_on: date


class LoanRepaid(_LoanEvent):
    """Every instalment is paid: the loan is over."""

    repaid_on: date


class LoanDefaulted(_LoanEvent):
    """The pack's number of instalments were missed (due and unpaid past the next due date):
    the loan's term ends and what the member owes is handed to collection, which opens a case
    for the member; the fund bears a loss only once that case is written off."""

    missed: int = Field(ge=1)
    balance: Money = Field(description="Capital still owed.")
    outstanding: Money | None = Field(None, description="What the member owes: the capital "
                                      "and the interest of the instalments fallen due unpaid "
                                      "(none from a fund that booked the loss at once).")
    transfer_id: str | None = Field(None, description="The loss's transfer, from a fund that "
                                    "booked it at once; none: the loss waits for collection.")
    defaulted_on: date

# ---------------------------------------------------------------------------------- collection

ReminderLevel = Literal[
    "reminder_1", "reminder_2", "formal_notice", "legal_handover", "write_off_proposed"
]


class _CaseEvent(Event):
    service = "collection"
    topic = COLLECTION_TOPIC
    aggregate_field = "invoice_id"
    invoice_id: str
    contract_id: str
    case_id: str


class ReminderSent(_CaseEvent):
    """A step of the dunning schedule was taken and the client told, in their language."""

    level: ReminderLevel
    outstanding: Money = Field(description="Principal still due.")
    interest: Money
    compensation: Money = Field(description="Fixed compensation or Book XIX damages claimed.")
    total_claimed: Money
    language: Language
    sent_on: date


class DebtRecovered(_CaseEvent):
    """The debt was paid: the case is closed."""

    principal: Money
    beyond_principal: Money = Field(description="Interest and compensation recovered on top.")
    closed_on: date


class DebtWrittenOff(_CaseEvent):
    """Collection failed and the debt is abandoned: the fund absorbs the loss, billing credits."""

    member_id: str
    amount: Money = Field(description="Principal written off.")
    reason: str
    written_off_on: date


class _LoanCaseEvent(Event):
    service = "collection"
    topic = COLLECTION_TOPIC
    aggregate_field = "loan_id"
    loan_id: str
    member_id: str
    case_id: str


LoanReminderLevel = Literal["default_notice", "reminder", "write_off_proposed"]


class LoanReminderSent(_LoanCaseEvent):
    """A step of a defaulted loan's case: the member was written to, by e-mail in their language
    (no late-payment interest: no law sets one on the cooperative's loans)."""

    level: LoanReminderLevel
    outstanding: Money
    language: Language
    sent_on: date


class LoanPaymentCollected(_LoanCaseEvent):
    """Staff recorded a payment of the member on their defaulted loan's case: the fund books
    it (interest fallen due first, then capital)."""

    payment_id: str = Field(description="Unique per payment: the fund books it once.")
    amount: Money
    outstanding: Money = Field(description="What the member still owes after it; zero: the "
                               "case is closed, paid.")
    received_on: date


class LoanWrittenOff(_LoanCaseEvent):
    """Collection of the defaulted loan failed and staff wrote it off: the fund bears what is
    left of the capital as its loss."""

    amount: Money = Field(description="What the member still owed, abandoned.")
    reason: str
    written_off_on: date


EVENT_TYPES: tuple[type[Event], ...] = (
    MemberRegistered,
    MemberActivated,
    MemberUpdated,
    MemberErased,
    ContractSigned,
    EmploymentDeclared,
    WorkCompleted,
    ContractCancelled,
    InvoiceIssued,
    PaymentReceived,
    InvoicePaid,
    DebtOverdue,
    CreditNoteIssued,
    CreditApplied,
    OverpaymentRefunded,
    InvoiceDelivered,
    InvoiceDeliveryRejected,
    SalaryDue,
    SalaryPaid,
    SalaryPaymentRejected,
    InstalmentWithheld,
    GuaranteeGranted,
    GuaranteeDeclined,
    AdvancePaid,
    AdvanceRecovered,
    LossAbsorbed,
    LoanApplied,
    LoanApproved,
    LoanDeclined,
    LoanDisbursed,
    InstalmentDue,
    InstalmentPaid,
    DirectDebitRequested,
    DirectDebitReturned,
    LoanRepaid,
    LoanDefaulted,
    ReminderSent,
    DebtRecovered,
    DebtWrittenOff,
    LoanReminderSent,
    LoanPaymentCollected,
    LoanWrittenOff,
)

BY_CE_TYPE: dict[str, type[Event]] = {event.ce_type(): event for event in EVENT_TYPES}

