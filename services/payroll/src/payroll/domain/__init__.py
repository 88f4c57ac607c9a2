"""Pure payroll rules: the rule-pack section, the salary formula, pay dates and what a SEPA
transfer can carry."""

from payroll.domain.paydates import (
    PAYMENT_RUN_HORIZON,
    SIMULATION_HORIZON,
    is_working_day,
    pay_date_prepared_on,
    working_day_before,
    working_days_after,
)
from payroll.domain.rules import PayrollSection, SalaryRules, salary_rules
from payroll.domain.salary import SalaryNotPayable, compute_salary
from payroll.domain.sepa import NotSepaSafe, sepa_amount, sepa_iban, sepa_name

__all__ = [
    "PAYMENT_RUN_HORIZON",
    "SIMULATION_HORIZON",
    "NotSepaSafe",
    "PayrollSection",
    "SalaryNotPayable",
    "SalaryRules",
    "compute_salary",
    "is_working_day",
    "pay_date_prepared_on",
    "salary_rules",
    "sepa_amount",
    "sepa_iban",
    "sepa_name",
    "working_day_before",
    "working_days_after",
]
