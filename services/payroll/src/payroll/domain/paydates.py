"""Working days and pay dates: Monday to Friday, less the branch's public holidays."""

from __future__ import annotations

from datetime import timedelta

from smart_shared.workdays import is_working_day, working_days_after

__all__ = ["PAYMENT_RUN_HORIZON", "SIMULATION_HORIZON", "is_working_day", "working_days_after"]

PAYMENT_RUN_HORIZON = timedelta(days=31)
"""How far ahead a payment run may be dated (policy): the bank executes a run on its date and the
run holds every salary due by then, so a distant date would hold back salaries due sooner."""
SIMULATION_HORIZON = timedelta(days=731)
"""How far ahead a salary may be simulated (policy): as far as a contract's work days may lie."""
