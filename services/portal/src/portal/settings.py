"""The portal's settings: where the six services answer, and how its cookies are set."""

from __future__ import annotations

from pydantic import Field
from smart_shared.settings import Settings

SERVICES = ("members", "contracts", "billing", "payroll", "fund", "collection")


DEFAULT_PORTAL_SECRET = "local-portal-secret-change-me"


class PortalSettings(Settings):
    """The platform's settings plus the public URL of each service the portal calls."""

    portal_secret: str = Field(
        DEFAULT_PORTAL_SECRET, alias="SMART_PORTAL_SECRET", min_length=16,
        description="Signs the CSRF tokens; set a long random value outside local.")
    session_hours: int = Field(8, alias="SMART_PORTAL_SESSION_HOURS", ge=1, le=24)
    recent_reads_seconds: float = Field(
        5, alias="SMART_PORTAL_RECENT_READS_SECONDS", ge=0, le=60,
        description="How long a person's summary pages (the dashboard) reuse what they read, "
                    "until they send a command; 0 reads afresh every time.")
    page_size: int = Field(
        100, alias="SMART_PORTAL_PAGE_SIZE", ge=1, le=500,
        description="How many records a history page (contracts, invoices, salaries, loans, "
                    "payment runs) shows before its link to the older ones.")
    members_url: str = Field("http://127.0.0.1:8001", alias="SMART_MEMBERS_URL")
    contracts_url: str = Field("http://127.0.0.1:8002", alias="SMART_CONTRACTS_URL")
    billing_url: str = Field("http://127.0.0.1:8003", alias="SMART_BILLING_URL")
    payroll_url: str = Field("http://127.0.0.1:8004", alias="SMART_PAYROLL_URL")
    fund_url: str = Field("http://127.0.0.1:8005", alias="SMART_FUND_URL")
    collection_url: str = Field("http://127.0.0.1:8006", alias="SMART_COLLECTION_URL")

    @property
    def secure_cookies(self) -> bool:
        """Cookies travel only over HTTPS, except on a local machine (plain http://127.0.0.1)."""
        return self.env != "local"

    def unsafe_for_production(self) -> list[str]:
        reasons = super().unsafe_for_production()
        if self.env != "local" and self.portal_secret == DEFAULT_PORTAL_SECRET:
            reasons.append("SMART_PORTAL_SECRET is the default secret published in the repository")
        return reasons

    def service_url(self, name: str) -> str:
        url: str = getattr(self, f"{name}_url")
        return url.rstrip("/")
