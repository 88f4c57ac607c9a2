"""Clients: EU VAT numbers (python-stdnum eu.vat) and the client key."""

from __future__ import annotations

from typing import Any

import pytest
from contracts.domain import ClientDetails, ClientRefused, client_key, make_client
from pydantic import ValidationError


def details(**changes: Any) -> ClientDetails:
    data: dict[str, Any] = {
        "name": "Acme SA", "kind": "business", "country": "BE", "email": "ap@acme.be",
        "address": {"street": "Rue Haute 1", "postal_code": "1000", "city": "Bruxelles",
                    "country": "BE"},
        "vat_number": "BE 0403.170.701", "language": "fr",
    }
    data.update(changes)
    return ClientDetails.model_validate(data)


def test_a_business_vat_number_is_normalised_and_is_the_client_key() -> None:
    client = make_client(details())
    assert client.vat_number == "BE0403170701"
    assert client.client_key == "BE0403170701"


def test_a_vat_number_with_a_bad_check_digit_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        details(vat_number="BE0403170702")
    assert error.value.errors()[0]["loc"] == ("vat_number",)


def test_an_eu_business_needs_a_vat_number() -> None:
    with pytest.raises(ClientRefused) as refused:
        make_client(details(vat_number=None))
    assert refused.value.field == "client.vat_number"


def test_the_vat_number_must_belong_to_the_clients_country() -> None:
    with pytest.raises(ClientRefused, match="FR"):
        make_client(details(country="FR", address={"street": "Rue 1", "postal_code": "75001",
                                                   "city": "Paris", "country": "FR"}))


def test_a_greek_vat_number_uses_the_el_prefix() -> None:
    client = make_client(details(country="GR", vat_number="EL094014201",
                                 address={"street": "Odos 1", "postal_code": "10431",
                                          "city": "Athina", "country": "GR"}))
    assert client.client_key == "EL094014201"


def test_a_consumer_has_no_vat_number() -> None:
    with pytest.raises(ClientRefused) as refused:
        make_client(details(kind="consumer"))
    assert refused.value.field == "client.vat_number"


def test_a_consumer_key_is_the_normalised_name_and_country() -> None:
    client = make_client(details(kind="consumer", vat_number=None, name="  Éloïse  D'Arc "))
    assert client.client_key == "BE:eloise-d-arc"
    assert client_key("consumer", "ELOISE d arc", "BE", None) == client.client_key


def test_a_business_outside_the_eu_is_keyed_by_name_and_country() -> None:
    client = make_client(details(country="US", vat_number=None,
                                 address={"street": "1 Main St", "postal_code": "10001",
                                          "city": "New York", "country": "US"}))
    assert client.client_key == "US:acme-sa"


def test_the_address_is_in_the_clients_country() -> None:
    with pytest.raises(ClientRefused) as refused:
        make_client(details(address={"street": "Rue 1", "postal_code": "75001",
                                     "city": "Paris", "country": "FR"}))
    assert refused.value.field == "client.address.country"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.de"])
def test_a_malformed_email_is_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        details(email=email)
