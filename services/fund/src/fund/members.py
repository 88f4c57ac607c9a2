"""How the fund reaches a member whose guarantee it declines: the contact members puts in its
events, kept per member (latest version wins) and forgotten on erasure."""

from __future__ import annotations

from smart_shared.events import ContractSigned, MemberActivated, MemberErased, MemberUpdated
from smart_shared.events.catalogue import DeclineReason, MemberContact
from smart_shared.mail import Mail, forget_mails_of
from smart_shared.mail.render import default_language
from smart_shared.mongo import UnitOfWork

from fund import store


async def keep_contact(uow: UnitOfWork,
                       event: MemberActivated | MemberUpdated | MemberErased) -> None:
    """Keep the member's latest contact and payout account; an erased member's contact, account
    and mails are forgotten."""
    contact = None if isinstance(event, MemberErased) else event.contact
    if isinstance(event, MemberErased):
        await forget_mails_of(uow, event.member_id)
    # the payout account is where a microcredit is paid out
    payout = None if isinstance(event, MemberErased) else event.payout.model_dump(mode="json")
    store.keep_contact(uow, event.member_id, event.version,
                       contact.model_dump(mode="json") if contact else None, payout)


async def declined_guarantee_mail(uow: UnitOfWork, event: ContractSigned, reason: DeclineReason,
                                  detail: str) -> Mail | None:
    """The member is told their contract is not guaranteed, and why (None: no address known).

    Declines are rare, so the contact is read only when one is: the first decline of a batch
    reads the contacts of all its signatures' members (``store.read_ahead``)."""
    known = await store.member_contact(uow, event.member_id)
    if not known:
        return None
    contact = MemberContact.model_validate(known)
    return Mail(
        cause=f"guarantee-declined:{event.contract_id}", to=contact.email, to_name=contact.name,
        branch=event.branch, template="guarantee_declined", person_id=event.member_id,
        language=contact.language or default_language(event.branch, event.first_work_day),
        data={"name": contact.name, "client_name": event.client.name, "reason": reason,
              "detail": detail, "description": event.description,
              "amount": event.amount_excl_vat},
    )
