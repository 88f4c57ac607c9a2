"""The mails members sends besides login links: the activation."""

from __future__ import annotations

from datetime import date

from smart_shared.mail import Mail
from smart_shared.mail.render import default_language

from members.domain import Member


def activation_mail(member: Member, portal_url: str, today: date) -> Mail:
    """"You are a member": the first paid share activated them."""
    return Mail(
        cause=f"member-activated:{member.member_id}", to=member.email or "",
        to_name=member.first_name, branch=member.branch, template="member_activated",
        person_id=member.member_id,
        language=member.language or default_language(member.branch, today),
        data={"name": member.first_name, "portal_url": portal_url})
