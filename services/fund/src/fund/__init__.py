"""Guarantee decisions and the double-entry ledger of the mutual guarantee fund."""
