"""SEPA files are validated against their ISO 20022 schema, each schema built once per process."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sepaxml.validation import ValidationError
from smart_shared import sepa
from smart_shared.sepa import Debtor, Transfer, iso20022_schema, sepa_credit_transfer_file

COOPERATIVE = Debtor("SMart SCE", "BE68539007547034", "GKCCBEBB")


def salary(ident: str, amount: str) -> Transfer:
    return Transfer(ident, "Zoë Dupont", "BE71096123456769", Decimal(amount), f"Salary {ident}")


def test_credit_transfer_files_are_checked_against_one_schema_built_once() -> None:
    iso20022_schema.cache_clear()
    for run in range(3):
        content = sepa_credit_transfer_file(COOPERATIVE, date(2026, 12, 15),
                                            [salary(f"run{run}-1", "1250.40"),
                                             salary(f"run{run}-2", "99.99")])
        assert iso20022_schema(sepa.SCHEMA).is_valid(content.decode())
    info = iso20022_schema.cache_info()
    assert info.misses == 1  # built for the first file, reused for the next two
    assert info.hits >= 5


def test_a_file_its_schema_refuses_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # sepaxml cleans what it is given, so the file is broken after it: the amount's decimals
    real_export = sepa.SepaTransfer.export

    def broken(self: sepa.SepaTransfer, validate: bool = True) -> bytes:
        return bytes(real_export(self, validate=validate)).replace(b">1250.40<", b">1250.4x<")

    monkeypatch.setattr(sepa.SepaTransfer, "export", broken)
    with pytest.raises(ValidationError, match=r"pain\.001\.001\.09"):
        sepa_credit_transfer_file(COOPERATIVE, date(2026, 12, 15), [salary("a", "1250.40")])
