"""Salaries from the branch rule pack, the 7-working-day guarantee, payslips, SEPA runs."""
