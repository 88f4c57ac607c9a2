"""Reminder letters in the client's language (French, Dutch, English; French in France), with
the mentions the law asks of them: who claims, for what, how much, what may follow, by when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from smart_shared.documents import document_language, document_locale, long_date, money, number
from smart_shared.events.catalogue import ClientKind, Language, ReminderLevel

from collection.domain.claims import Claim


@dataclass(frozen=True)
class CreditorFacts:
    """The creditor as every letter names it (the branch's company details)."""

    name: str
    legal_form: str
    address: str
    enterprise_number: str
    registry: str
    iban: str
    city: str


@dataclass(frozen=True)
class MayFollow:
    """What may be claimed if the debtor does not pay by the deadline."""

    compensation: Decimal
    interest_rate: Decimal


@dataclass(frozen=True)
class LetterFacts:
    client_name: str
    invoice_number: str
    due_date: date
    claim: Claim
    branch: str = "BE"
    kind: ClientKind = "business"
    issue_date: date | None = None
    description: str | None = None
    sent_on: date | None = None
    pay_by: date | None = None
    client_address: str | None = None
    creditor: CreditorFacts | None = None
    may_follow: MayFollow | None = None
    free: bool = False


@dataclass(frozen=True)
class Letter:
    """A composed letter: what it says, block by block, ready to be printed or mailed."""

    subject: str
    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    dated: str | None
    salutation: str
    paragraphs: tuple[str, ...]
    invoice: tuple[str, ...]
    amounts: tuple[tuple[str, str], ...]
    total: tuple[str, str]
    notes: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """The letter as plain text (the case timeline keeps it)."""
        lines = [self.subject, ""]
        if self.sender:
            lines += [*self.sender, ""]
        if self.dated:
            lines += [self.dated, ""]
        lines += [self.salutation, ""]
        for paragraph in self.paragraphs:
            lines += [paragraph, ""]
        if self.invoice:
            lines += [*self.invoice, ""]
        lines += [f"{label}: {value}" for label, value in (*self.amounts, self.total)]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def to_document(self) -> dict[str, Any]:
        return {"subject": self.subject, "sender": list(self.sender),
                "recipient": list(self.recipient), "dated": self.dated,
                "salutation": self.salutation, "paragraphs": list(self.paragraphs),
                "invoice": list(self.invoice), "amounts": [list(a) for a in self.amounts],
                "total": list(self.total), "notes": list(self.notes)}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Letter:
        return cls(subject=doc["subject"], sender=tuple(doc["sender"]),
                   recipient=tuple(doc["recipient"]), dated=doc.get("dated"),
                   salutation=doc["salutation"], paragraphs=tuple(doc["paragraphs"]),
                   invoice=tuple(doc["invoice"]),
                   amounts=tuple((a[0], a[1]) for a in doc["amounts"]),
                   total=(doc["total"][0], doc["total"][1]), notes=tuple(doc["notes"]))


SUBJECTS: dict[Language, dict[ReminderLevel, str]] = {
    "fr": {
        "reminder_1": "Rappel de paiement",
        "reminder_2": "Second rappel de paiement",
        "formal_notice": "Mise en demeure",
        "legal_handover": "Transmission de votre dossier au recouvrement judiciaire",
        "write_off_proposed": "Clôture de la procédure amiable",
    },
    "nl": {
        "reminder_1": "Betalingsherinnering",
        "reminder_2": "Tweede betalingsherinnering",
        "formal_notice": "Ingebrekestelling",
        "legal_handover": "Overdracht van uw dossier voor gerechtelijke invordering",
        "write_off_proposed": "Afsluiting van de minnelijke procedure",
    },
    "en": {
        "reminder_1": "Payment reminder",
        "reminder_2": "Second payment reminder",
        "formal_notice": "Formal notice",
        "legal_handover": "Your file is handed over for legal recovery",
        "write_off_proposed": "End of the amicable procedure",
    },
}

BODIES: dict[Language, dict[ReminderLevel, str]] = {
    "fr": {
        "reminder_1": "Sauf erreur de notre part, la facture {number} échue le {due} reste "
                      "impayée. Merci de régler le montant ci-dessous au plus tard le {deadline}.",
        "reminder_2": "Malgré notre rappel, la facture {number} échue le {due} reste impayée. "
                      "Merci de régler le montant ci-dessous au plus tard le {deadline}.",
        "formal_notice": "Par la présente, nous vous mettons en demeure de payer la facture "
                         "{number} échue le {due}, majorée des intérêts de retard et de "
                         "l'indemnité dus, au plus tard le {deadline}.",
        "legal_handover": "Faute de paiement de la facture {number} échue le {due}, votre dossier "
                          "est transmis pour recouvrement judiciaire.",
        "write_off_proposed": "La procédure amiable pour la facture {number} échue le {due} est "
                              "clôturée. La somme reste due.",
    },
    "nl": {
        "reminder_1": "Behoudens vergissing blijft factuur {number}, vervallen op {due}, "
                      "onbetaald. Gelieve het onderstaande bedrag uiterlijk op {deadline} te "
                      "betalen.",
        "reminder_2": "Ondanks onze herinnering blijft factuur {number}, vervallen op {due}, "
                      "onbetaald. Gelieve het onderstaande bedrag uiterlijk op {deadline} te "
                      "betalen.",
        "formal_notice": "Hierbij stellen wij u in gebreke om factuur {number}, vervallen op "
                         "{due}, vermeerderd met de verschuldigde verwijlintresten en "
                         "vergoeding, uiterlijk op {deadline} te betalen.",
        "legal_handover": "Bij gebrek aan betaling van factuur {number}, vervallen op {due}, "
                          "wordt uw dossier overgedragen voor gerechtelijke invordering.",
        "write_off_proposed": "De minnelijke procedure voor factuur {number}, vervallen op {due}, "
                              "is afgesloten. Het bedrag blijft verschuldigd.",
    },
    "en": {
        "reminder_1": "Unless we are mistaken, invoice {number}, due on {due}, is still unpaid. "
                      "Please pay the amount below by {deadline} at the latest.",
        "reminder_2": "Despite our reminder, invoice {number}, due on {due}, is still unpaid. "
                      "Please pay the amount below by {deadline} at the latest.",
        "formal_notice": "We hereby give you formal notice to pay invoice {number}, due on "
                         "{due}, with the late interest and compensation due, by {deadline} at "
                         "the latest.",
        "legal_handover": "As invoice {number}, due on {due}, remains unpaid, your file is "
                          "handed over for legal recovery.",
        "write_off_proposed": "The amicable procedure for invoice {number}, due on {due}, is "
                              "closed. The amount remains due.",
    },
}

FREE: dict[Language, str] = {
    "fr": "Ce premier rappel est gratuit.",
    "nl": "Deze eerste herinnering is kosteloos.",
    "en": "This first reminder is free of charge.",
}

CONSEQUENCES: dict[Language, str] = {
    "fr": "À défaut de paiement au plus tard le {deadline}, nous pourrons vous réclamer une "
          "indemnité de {compensation} et des intérêts de retard au taux de {rate} par an sur le "
          "principal restant dû.",
    "nl": "Betaalt u niet uiterlijk op {deadline}, dan kunnen wij een vergoeding van "
          "{compensation} en verwijlintresten tegen {rate} per jaar op de openstaande hoofdsom "
          "vorderen.",
    "en": "If you do not pay by {deadline}, we may claim compensation of {compensation} and late "
          "interest at {rate} a year on the principal outstanding.",
}

INTEREST_ONLY: dict[Language, str] = {
    "fr": "À défaut de paiement au plus tard le {deadline}, des intérêts au taux légal de {rate} "
          "par an pourront vous être réclamés. Aucun frais de recouvrement ne vous sera réclamé.",
    "nl": "Betaalt u niet uiterlijk op {deadline}, dan kunnen wij intresten tegen de wettelijke "
          "rentevoet van {rate} per jaar vorderen. U worden geen invorderingskosten aangerekend.",
    "en": "If you do not pay by {deadline}, interest at the legal rate of {rate} a year may be "
          "claimed. No recovery costs will be charged to you.",
}

L441_10 = ("Conformément à l'article L441-10 du Code de commerce, tout retard de paiement rend "
           "exigibles, sans qu'un rappel soit nécessaire, des pénalités de retard au taux de "
           "{rate} par an (taux de refinancement de la BCE majoré de 10 points) et une indemnité "
           "forfaitaire pour frais de recouvrement de {compensation} (article D441-5).")

LABELS: dict[Language, dict[str, str]] = {
    "fr": {"greeting": "Madame, Monsieur,", "principal": "Principal restant dû",
           "interest": "Intérêts de retard", "compensation": "Indemnité",
           "total": "Total réclamé", "enterprise": "Numéro d'entreprise {number}",
           "dated": "{city}, le {day}",
           "invoice": "Facture {number} du {issue}, échue le {due}",
           "invoice_undated": "Facture {number}, échue le {due}", "object": "Objet : {what}",
           "deadline": "Date limite de paiement : {day}",
           "pay": "Paiement sur le compte {iban} en mentionnant la facture {number}."},
    "nl": {"greeting": "Geachte {name},", "principal": "Openstaande hoofdsom",
           "interest": "Verwijlintresten", "compensation": "Vergoeding",
           "total": "Totaal gevorderd", "enterprise": "Ondernemingsnummer {number}",
           "dated": "{city}, {day}",
           "invoice": "Factuur {number} van {issue}, vervallen op {due}",
           "invoice_undated": "Factuur {number}, vervallen op {due}",
           "object": "Omschrijving: {what}", "deadline": "Uiterste betaaldatum: {day}",
           "pay": "Betaling op rekening {iban} met vermelding van factuur {number}."},
    "en": {"greeting": "Dear {name},", "principal": "Principal outstanding",
           "interest": "Late interest", "compensation": "Compensation",
           "total": "Total claimed", "enterprise": "Enterprise number {number}",
           "dated": "{city}, {day}", "invoice": "Invoice {number} of {issue}, due on {due}",
           "invoice_undated": "Invoice {number}, due on {due}", "object": "For: {what}",
           "deadline": "Last day to pay: {day}",
           "pay": "Payment to account {iban} quoting invoice {number}."},
}


def format_amount(amount: Decimal, language: Language, branch: str = "BE") -> str:
    """``amount`` in euros as written in ``language`` in the branch's country (Babel), e.g.
    ``1 234,50 €`` in fr_BE, ``€ 1.234,50`` in nl_BE."""
    return money(amount, "EUR", document_locale(language, branch))


def format_date(day: date, language: Language, branch: str = "BE") -> str:
    """``day`` written out in ``language``, e.g. ``2 mars 2026``."""
    return long_date(day, document_locale(language, branch))


def format_rate(rate: Decimal, language: Language, branch: str = "BE") -> str:
    """A yearly rate as a percentage, e.g. ``10,5 %``."""
    return f"{number(rate * 100, document_locale(language, branch))}\xa0%"


def compose_letter(level: ReminderLevel, language: Language, facts: LetterFacts) -> Letter:
    """The letter of one step, in ``language`` (French in France), with its mandatory mentions."""
    lang: Language = document_language(language, facts.branch)  # type: ignore[assignment]
    label = LABELS[lang]
    branch = facts.branch

    def day(value: date) -> str:
        return format_date(value, lang, branch)

    def amount(value: Decimal) -> str:
        return format_amount(value, lang, branch)

    deadline = day(facts.pay_by) if facts.pay_by else ""
    paragraphs = [BODIES[lang][level].format(number=facts.invoice_number, due=day(facts.due_date),
                                             deadline=deadline)]
    if facts.free:
        paragraphs.append(FREE[lang])
    follow = facts.may_follow
    if follow is not None and facts.pay_by is not None:
        values = {"deadline": deadline, "compensation": amount(follow.compensation),
                  "rate": format_rate(follow.interest_rate, lang, branch)}
        if branch == "FR" and facts.kind == "business":
            paragraphs.append(L441_10.format(**values))
        elif follow.compensation > 0:
            paragraphs.append(CONSEQUENCES[lang].format(**values))
        else:
            paragraphs.append(INTEREST_ONLY[lang].format(**values))
    creditor = facts.creditor
    sender: tuple[str, ...] = ()
    notes: list[str] = []
    dated = None
    if creditor is not None:
        enterprise = (f"SIREN {creditor.enterprise_number}" if branch == "FR"
                      else label["enterprise"].format(number=creditor.enterprise_number))
        sender = (creditor.name, creditor.legal_form, creditor.address,
                  f"{enterprise} · {creditor.registry}")
        if facts.pay_by is not None:
            notes.append(label["pay"].format(iban=creditor.iban, number=facts.invoice_number))
        if facts.sent_on is not None:
            dated = label["dated"].format(city=creditor.city, day=day(facts.sent_on))
    invoice = [label["invoice"].format(number=facts.invoice_number, issue=day(facts.issue_date),
                                       due=day(facts.due_date)) if facts.issue_date else
               label["invoice_undated"].format(number=facts.invoice_number,
                                               due=day(facts.due_date))]
    if facts.description:
        invoice.append(label["object"].format(what=facts.description))
    if facts.pay_by is not None:
        invoice.append(label["deadline"].format(day=deadline))
    claim = facts.claim
    recipient = (facts.client_name, *((facts.client_address,) if facts.client_address else ()))
    return Letter(
        subject=SUBJECTS[lang][level],
        sender=sender,
        recipient=recipient,
        dated=dated,
        salutation=label["greeting"].format(name=facts.client_name),
        paragraphs=tuple(paragraphs),
        invoice=tuple(invoice),
        amounts=((label["principal"], amount(claim.outstanding)),
                 (label["compensation"], amount(claim.compensation)),
                 (label["interest"], amount(claim.interest))),
        total=(label["total"], amount(claim.total)),
        notes=tuple(notes),
    )


def render_letter(level: ReminderLevel, language: Language, facts: LetterFacts) -> str:
    """The reminder text for one step, in ``language`` (French in France)."""
    return compose_letter(level, language, facts).text()
