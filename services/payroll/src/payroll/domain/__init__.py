"""Pure payroll rules: the rule-pack section, the salary formula and pay dates."""

from payroll.domain.paydates import is_working_day, working_days_after
from payroll.domain.rules import PayrollSection, SalaryRules, salary_rules
from payroll.domain.salary import SalaryNotPayable, compute_salary

__all__ = [
    "PayrollSection",
    "SalaryNotPayable",
    "SalaryRules",
    "compute_salary",
    "is_working_day",
    "salary_rules",
    "working_days_after",
]
