"""Invoices and credit notes of every kind the platform issues, built by billing's own rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from billing.credit_notes import credit_note_document
from billing.domain.invoice import invoice_terms
from billing.domain.rules import billing_rules
from billing.invoicing import invoice_document
from billing.store import CreditNote, Invoice, PrepaidCredit
from smart_shared.events.catalogue import Activity, Address, Client, ContractSigned
from smart_shared.money import Money
from smart_shared.rulepacks import rule_pack

ISSUED = date(2026, 3, 2)
MOMENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CLIENTS = {
    "be-business": Client(
        client_key="BE0417497106", name="Théâtre de l'Été SRL", kind="business", country="BE",
        email="factures@ete.example", vat_number="BE0417497106", language="fr",
        address=Address(street="Rue Haute 12", postal_code="1000", city="Bruxelles", country="BE")),
    "be-consumer": Client(
        client_key="jan peeters|BE", name="Jan Peeters", kind="consumer", country="BE",
        email="jan@example.be", language="nl",
        address=Address(street="Meir 3", postal_code="2000", city="Antwerpen", country="BE")),
    "nl-reverse-charge": Client(
        client_key="NL004495445B01", name="Zoë Café BV", kind="business", country="NL",
        email="admin@zoe.example", vat_number="NL004495445B01", language="en",
        address=Address(street="Damrak 1", postal_code="1012 LG", city="Amsterdam",
                        country="NL")),
    "us-outside-eu": Client(
        client_key="acme records|US", name="Acme Records Inc.", kind="business", country="US",
        email="ap@acme.example", language="en",
        address=Address(street="1 Main St", postal_code="10001", city="New York", country="US")),
    "fr-business": Client(
        client_key="FR40303265045", name="Compagnie Lumière SARL", kind="business",
        country="FR", email="compta@lumiere.example", vat_number="FR40303265045",
        language="fr",
        address=Address(street="12 rue de Rivoli", postal_code="75004", city="Paris",
                        country="FR")),
    "fr-consumer": Client(
        client_key="élodie martin|FR", name="Élodie Martin", kind="consumer", country="FR",
        email="elodie@example.fr", language="fr",
        address=Address(street="3 place Bellecour", postal_code="69002", city="Lyon",
                        country="FR")),
}
BRANCH = {"fr-business": "FR", "fr-consumer": "FR"}


WORK_NATURES = ("other", "copyright", "performance", "performance_for_organiser")


def sample_invoice(kind: str, sequence: int = 1, work_nature: str = "other") -> Invoice:
    """The invoice billing issues on ``ISSUED`` for the client ``kind`` of ``CLIENTS`` and a
    contract whose work is ``work_nature``."""
    branch, client = BRANCH.get(kind, "BE"), CLIENTS[kind]
    signed = ContractSigned(
        branch=branch, version=2, occurred_at=MOMENT, contract_id=f"contract-{kind}",
        member_id="member-1",
        activity=Activity(name="musician", kind="artistic", joint_committee="304"),
        client=client, description="Concert — soirée d'ouverture", work_days=[date(2026, 2, 27)],
        first_work_day=date(2026, 2, 27), last_work_day=date(2026, 2, 27),
        amount_excl_vat=Money.of(Decimal("1000.00"), "EUR"), expenses=Money.of(Decimal("0"), "EUR"),
        payment_term_days=30, client_signed_at=MOMENT, signed_at=MOMENT,
        work_nature=work_nature,  # type: ignore[arg-type]
    )
    rules = billing_rules(branch, ISSUED)
    standard_rate = rule_pack(branch, ISSUED).common.standard_vat_rate.value
    terms = invoice_terms(branch, sequence, ISSUED, client, Decimal("1000.00"), 30, rules,
                          standard_rate, work_nature)
    name = f"invoice-{kind}" if work_nature == "other" else f"invoice-{kind}-{work_nature}"
    document = invoice_document(name, signed, terms, rules, MOMENT,
                                performer_name="Camille Dupont")
    return Invoice.model_validate(document)


def sample_credit_note(invoice: Invoice, amount: Decimal | None = None) -> CreditNote:
    """A credit note on ``invoice`` (all of it when no amount is given)."""
    document = credit_note_document(
        f"credit-note-{invoice.invoice_id}", invoice, f"{invoice.branch}-CN-2026-000001",
        ISSUED, amount if amount is not None else invoice.total,
        "Concert annulé — cancelled", None, MOMENT)
    return CreditNote.model_validate(document)


def sample_letter_pdf(level: str, kind: str, language: str, branch: str = "BE") -> bytes:
    """A dunning letter of a case opened on an unpaid invoice of 1,000 €, sent on 9 March 2026
    by e-mail, as collection prints it."""
    from collection.documents import letter_pdf
    from collection.domain import Claim, collection_rules, compose_letter
    from collection.dunning import letter_facts

    sent_on = date(2026, 3, 9)
    case = {"_id": "case-sample", "branch": branch, "member_id": "member-sample",
            "invoice_number": f"{branch}-2026-000042", "issue_date": "2026-01-31",
            "due_date": "2026-03-02", "description": "Concert at the Ancienne Belgique, 20 January",
            "client": {"name": "Sofie Janssens", "kind": kind, "language": language,
                       "email": "sofie@example.be", "address": "Kerkstraat 5, 2000 Antwerpen, BE"}}
    rules = collection_rules(branch, sent_on).for_debtor(kind)  # type: ignore[arg-type]
    claim = Claim(Decimal("1000.00"), Decimal("0.00"), Decimal("0.00"))
    letter = compose_letter(level, language,  # type: ignore[arg-type]
                            letter_facts(case, level, claim, sent_on, "email", rules))
    return letter_pdf(letter, "SMart", MOMENT)


def sample_prepaid_invoice(kind: str = "be-business") -> Invoice:
    """The invoice of ``kind`` from which 200.00 of the client's credit on an earlier invoice
    was deducted when it was issued."""
    invoice = sample_invoice(kind, sequence=2)
    return invoice.model_copy(update={
        "prepaid": Decimal("200.00"), "paid": Decimal("200.00"),
        "balance_due": invoice.total - Decimal("200.00"),
        "prepaid_from": [PrepaidCredit(invoice_id="invoice-earlier",
                                       number=f"{invoice.branch}-2026-000001",
                                       amount=Decimal("200.00"))]})
