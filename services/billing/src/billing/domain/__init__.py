"""Billing's pure rules: invoices, numbering, VAT, structured communication, balances, statements."""
