"""Dunning schedules, late interest and compensation, payment plans, write-off."""
