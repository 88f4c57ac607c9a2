"""What contracts knows about members, kept from members' events (latest version wins)."""

from __future__ import annotations

from pydantic import BaseModel
from smart_shared.events import Activity, MemberActivated, MemberErased, MemberStatus, MemberUpdated
from smart_shared.events.catalogue import MemberContact

MemberEvent = MemberActivated | MemberUpdated | MemberErased


class KnownMember(BaseModel):
    member_id: str
    branch: str
    status: MemberStatus
    activities: list[Activity]
    version: int
    contact: MemberContact | None = None

    @property
    def may_contract(self) -> bool:
        return self.status == "active"

    def activity(self, name: str) -> Activity | None:
        """The member's activity of that name (case and spacing ignored)."""
        wanted = " ".join(name.split()).casefold()
        return next((a for a in self.activities if a.name.casefold() == wanted), None)


def member_after(known: KnownMember | None, event: MemberEvent) -> KnownMember | None:
    """The member once ``event`` is applied, or ``None`` when the event is stale (an older or
    repeated version, or anything after an erasure)."""
    if known is not None and (event.version <= known.version or known.status == "erased"):
        return None
    if isinstance(event, MemberErased):
        return KnownMember(member_id=event.member_id, branch=event.branch, status="erased",
                           activities=[], version=event.version)
    status: MemberStatus = "active" if isinstance(event, MemberActivated) else event.status
    return KnownMember(member_id=event.member_id, branch=event.branch, status=status,
                       activities=list(event.activities), version=event.version,
                       contact=event.contact or (known.contact if known else None))
