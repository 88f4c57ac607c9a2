"""The member's client: who they are, their VAT number, and their stable identity (client key)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from smart_shared.events import Address, Client, ClientKind, Language
from smart_shared.text import ASCII_ONLY, ONE_LINE, Identifier
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 ONE_LINE]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    ASCII_ONLY,
]

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# VAT prefixes that differ from the ISO country code (Greece, Northern Ireland)
_COUNTRY_OF_VAT_PREFIX = {"EL": "GR", "XI": "GB"}


class ClientRefused(ValueError):
    """The client's details break a rule; ``field`` names the failing field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class AddressDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: Text
    postal_code: Annotated[Identifier, StringConstraints(max_length=20)]
    city: Text
    country: CountryCode


class ClientDetails(BaseModel):
    """The client as the member describes them."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    kind: ClientKind
    country: CountryCode
    email: Email
    address: AddressDetails
    vat_number: Annotated[Identifier, Field(max_length=30)] | None = Field(None,
                                   description="EU VAT number, required for EU businesses.")
    language: Language = "en"

    @field_validator("vat_number")
    @classmethod
    def _valid_eu_vat_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return normalised_vat_number(value)


def normalised_vat_number(number: str) -> str:
    """The VAT number in its compact form (``BE0403170701``), or ``ValueError`` saying why it is
    not a valid EU VAT number (``python-stdnum`` ``eu.vat``)."""
    try:
        return str(vat.validate(number))
    except StdnumError as error:
        raise ValueError(f"is not a valid EU VAT number: {error}") from None


def vat_country(number: str) -> str:
    """The ISO country of a compact EU VAT number (``EL…`` is Greece)."""
    prefix = number[:2].upper()
    return _COUNTRY_OF_VAT_PREFIX.get(prefix, prefix)


def _normalised_name(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", plain.lower()))


def client_key(kind: ClientKind, name: str, country: str, vat_number: str | None) -> str:
    """The client's stable identity in a branch: the compact VAT number of a business, else the
    normalised name and country (``BE:jean-dupont``); the unit of the fund's exposure cap."""
    if kind == "business" and vat_number:
        return vat_number
    return f"{country}:{_normalised_name(name)}"


def make_client(details: ClientDetails) -> Client:
    """The catalogue's ``Client`` from what the member gave, or ``ClientRefused``.

    EU businesses need a valid VAT number of their own country; consumers and businesses outside
    the EU have none.
    """
    if details.address.country != details.country:
        raise ClientRefused("client.address.country", "must be the client's country")
    if details.kind == "business" and details.country in EU_COUNTRIES:
        if not details.vat_number:
            raise ClientRefused("client.vat_number", "is required for a business in the EU")
        if vat_country(details.vat_number) != details.country:
            raise ClientRefused("client.vat_number",
                                f"is not a VAT number of {details.country}")
    elif details.vat_number:
        why = "a consumer has none" if details.kind == "consumer" else \
            "only EU VAT numbers are accepted; leave it out for a client outside the EU"
        raise ClientRefused("client.vat_number", why)
    if not _normalised_name(details.name):
        raise ClientRefused("client.name", "needs at least one letter or digit")
    address = details.address
    return Client(
        client_key=client_key(details.kind, details.name, details.country, details.vat_number),
        name=details.name,
        kind=details.kind,
        country=details.country,
        email=details.email,
        address=Address(street=address.street, postal_code=address.postal_code,
                        city=address.city, country=address.country),
        vat_number=details.vat_number,
        language=details.language,
    )
