"""Billing's pure rules: invoices, numbers, VAT, structured communication, balances, camt.053."""
