"""Every test module of the payroll integration tests runs its own payroll service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .harness import Payroll, running_payroll


@pytest.fixture(scope="module")
async def payroll(infrastructure: object) -> AsyncIterator[Payroll]:
    async with running_payroll() as running:
        yield running
