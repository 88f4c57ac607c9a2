"""Gapless invoices, VAT, payments, bank statements, credit notes, overdue debts."""
