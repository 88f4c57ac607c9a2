"""The mails contracts sends: the client's signing link, the member's signed contract."""

from __future__ import annotations

from smart_shared.mail import Mail
from smart_shared.mail.render import default_language

from contracts.domain import Contract
from contracts.domain.members import KnownMember
from contracts.domain.signing import SigningLink


def _member_name(member: KnownMember | None) -> str:
    return member.contact.name if member and member.contact else "SMart"


def signing_link_mail(contract: Contract, member: KnownMember | None, link: SigningLink,
                      portal_url: str) -> Mail:
    """The client's one-time link to read and sign the contract (a secret: sent, then
    dropped)."""
    return Mail(
        cause=f"signing-link:{link.token_hash}", to=contract.client.email,
        to_name=contract.client.name, language=contract.client.language,
        branch=contract.branch, template="signing_link", secret=True,
        data={"client_name": contract.client.name, "member_name": _member_name(member),
              "description": contract.description,
              "first_work_day": contract.first_work_day, "last_work_day": contract.last_work_day,
              "amount": contract.amount_excl_vat, "expires_at": link.expires_at,
              "link": f"{portal_url.rstrip('/')}/sign/{link.token}"},
    )


def contract_signed_mail(contract: Contract, member: KnownMember | None) -> Mail | None:
    """"Your contract is signed", to the member (when contracts knows their address)."""
    if member is None or member.contact is None:
        return None
    contact = member.contact
    return Mail(
        cause=f"contract-signed:{contract.contract_id}", to=contact.email,
        to_name=contact.name, branch=contract.branch, template="contract_signed",
        person_id=contract.member_id,
        language=contact.language or default_language(contract.branch,
                                                       contract.first_work_day),
        data={"name": contact.name, "client_name": contract.client.name,
              "description": contract.description,
              "first_work_day": contract.first_work_day, "last_work_day": contract.last_work_day,
              "amount": contract.amount_excl_vat},
    )
