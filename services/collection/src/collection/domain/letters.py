"""Reminder letters in the client's language (French, Dutch, English; French in France)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from smart_shared.documents import document_locale, long_date, money
from smart_shared.events.catalogue import Language, ReminderLevel

from collection.domain.claims import Claim


@dataclass(frozen=True)
class LetterFacts:
    client_name: str
    invoice_number: str
    due_date: date
    claim: Claim
    pay_within_days: int = 8
    branch: str = "BE"


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
                      "impayée. Ce rappel est gratuit. Merci de régler le solde dans les {days} "
                      "jours.",
        "reminder_2": "Malgré notre rappel, la facture {number} échue le {due} reste impayée. "
                      "Merci de régler le montant ci-dessous dans les {days} jours.",
        "formal_notice": "Par la présente, nous vous mettons en demeure de payer la facture "
                         "{number} échue le {due}, majorée des intérêts de retard et de "
                         "l'indemnité dus, dans les {days} jours.",
        "legal_handover": "Faute de paiement de la facture {number} échue le {due}, votre dossier "
                          "est transmis pour recouvrement judiciaire.",
        "write_off_proposed": "La procédure amiable pour la facture {number} échue le {due} est "
                              "clôturée. La somme reste due.",
    },
    "nl": {
        "reminder_1": "Behoudens vergissing blijft factuur {number}, vervallen op {due}, "
                      "onbetaald. Deze herinnering is kosteloos. Gelieve het saldo binnen {days} "
                      "dagen te betalen.",
        "reminder_2": "Ondanks onze herinnering blijft factuur {number}, vervallen op {due}, "
                      "onbetaald. Gelieve het onderstaande bedrag binnen {days} dagen te betalen.",
        "formal_notice": "Hierbij stellen wij u in gebreke om factuur {number}, vervallen op "
                         "{due}, vermeerderd met de verschuldigde verwijlintresten en "
                         "vergoeding, binnen {days} dagen te betalen.",
        "legal_handover": "Bij gebrek aan betaling van factuur {number}, vervallen op {due}, "
                          "wordt uw dossier overgedragen voor gerechtelijke invordering.",
        "write_off_proposed": "De minnelijke procedure voor factuur {number}, vervallen op {due}, "
                              "is afgesloten. Het bedrag blijft verschuldigd.",
    },
    "en": {
        "reminder_1": "Unless we are mistaken, invoice {number}, due on {due}, is still unpaid. "
                      "This reminder is free of charge. Please pay the balance within {days} "
                      "days.",
        "reminder_2": "Despite our reminder, invoice {number}, due on {due}, is still unpaid. "
                      "Please pay the amount below within {days} days.",
        "formal_notice": "We hereby give you formal notice to pay invoice {number}, due on "
                         "{due}, with the late interest and compensation due, within {days} "
                         "days.",
        "legal_handover": "As invoice {number}, due on {due}, remains unpaid, your file is "
                          "handed over for legal recovery.",
        "write_off_proposed": "The amicable procedure for invoice {number}, due on {due}, is "
                              "closed. The amount remains due.",
    },
}

LABELS: dict[Language, tuple[str, str, str, str, str]] = {
    "fr": ("Madame, Monsieur", "Principal restant dû", "Intérêts de retard",
           "Indemnité", "Total réclamé"),
    "nl": ("Geachte", "Openstaande hoofdsom", "Verwijlintresten", "Vergoeding",
           "Totaal gevorderd"),
    "en": ("Dear", "Principal outstanding", "Late interest", "Compensation", "Total claimed"),
}


def format_amount(amount: Decimal, language: Language, branch: str = "BE") -> str:
    """``amount`` in euros as written in ``language`` in the branch's country (Babel), e.g.
    ``1 234,50 €`` in fr_BE, ``€ 1.234,50`` in nl_BE."""
    return money(amount, "EUR", document_locale(language, branch))


def format_date(day: date, language: Language, branch: str = "BE") -> str:
    """``day`` written out in ``language``, e.g. ``2 mars 2026``."""
    return long_date(day, document_locale(language, branch))


def render_letter(level: ReminderLevel, language: Language, facts: LetterFacts) -> str:
    """The reminder text for one step, in ``language`` (French in France)."""
    language = "fr" if facts.branch == "FR" else language
    greeting, principal, interest, compensation, total = LABELS[language]
    salutation = f"{greeting} {facts.client_name}," if language != "fr" else f"{greeting},"
    body = BODIES[language][level].format(
        number=facts.invoice_number,
        due=format_date(facts.due_date, language, facts.branch),
        days=facts.pay_within_days,
    )
    claim = facts.claim
    lines = [
        SUBJECTS[language][level],
        "",
        salutation,
        "",
        body,
        "",
        f"{principal}: {format_amount(claim.outstanding, language, facts.branch)}",
    ]
    if claim.interest:
        lines.append(f"{interest}: {format_amount(claim.interest, language, facts.branch)}")
    if claim.compensation:
        lines.append(f"{compensation}: {format_amount(claim.compensation, language, facts.branch)}")
    lines.append(f"{total}: {format_amount(claim.total, language, facts.branch)}")
    return "\n".join(lines)
