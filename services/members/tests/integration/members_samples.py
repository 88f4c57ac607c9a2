"""Valid applicants for the tests: national numbers computed with their real check digits."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from stdnum.be import nn
from stdnum.fr import nir

IBANS = {"BE": "BE71096123456769", "FR": "FR7610107001011234567890129"}
OTHER_IBAN = "NL91ABNA0417164300"


def belgian_number(born: date, serial: int) -> str:
    base = f"{born:%y%m%d}{serial:03d}"
    digits = ("2" + base) if born.year >= 2000 else base
    number = f"{base}{97 - int(digits) % 97:02d}"
    assert nn.is_valid(number) and nn.get_birth_date(number) == born
    return number


def french_number(born: date, serial: int) -> str:
    base = f"2{born:%y%m}75056{serial:03d}"
    number = base + nir.calc_check_digits(base + "00")
    assert nir.is_valid(number)
    return number


def applicant(branch: str = "BE", **overrides: Any) -> dict[str, Any]:
    """A valid registration body, with a national number nobody else in the run uses."""
    born = date(1980 + random.randrange(20), 1 + random.randrange(12), 1 + random.randrange(28))
    serial = random.randrange(1, 998)
    national_id = belgian_number(born, serial) if branch == "BE" else french_number(born, serial)
    body: dict[str, Any] = {
        "branch": branch,
        "first_name": "Anna",
        "last_name": f"Peeters-{serial}",
        "email": f"anna.{serial}@example.be",
        "birth_date": born.isoformat(),
        "national_id": national_id,
        "address": {"street": "Rue Coenraets 72", "postal_code": "1060",
                    "city": "Saint-Gilles", "country": branch},
        "iban": IBANS[branch],
        "activities": [{"name": "Musician", "kind": "artistic", "joint_committee": "304"},
                       {"name": "graphic designer", "kind": "artistic"}],
    }
    body.update(overrides)
    return body
