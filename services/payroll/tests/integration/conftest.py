"""Every test module of the payroll integration tests runs its own payroll service."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .harness import Payroll, running_payroll

# the pain.002 samples of the unit tests, importable whatever pytest collects first
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))


@pytest.fixture(scope="module")
async def payroll(infrastructure: object) -> AsyncIterator[Payroll]:
    async with running_payroll() as running:
        yield running
