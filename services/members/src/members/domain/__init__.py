"""Membership rules: no I/O, no framework."""

from members.domain.activities import JOINT_COMMITTEES, normalise_name, validate_activities
from members.domain.errors import NotNow, RuleBroken, UnknownShare
from members.domain.identity import national_id_key, validate_national_id
from members.domain.member import (
    Applicant,
    Changes,
    Member,
    StaffAction,
    change_status,
    erase,
    record_share_payment,
    register,
    subscribe,
    update,
    validate_email,
)
from members.domain.payout import validate_iban
from members.domain.shares import Share, ShareRules, paid_shares, pay, subscription

__all__ = [
    "JOINT_COMMITTEES",
    "Applicant",
    "Changes",
    "Member",
    "NotNow",
    "RuleBroken",
    "Share",
    "ShareRules",
    "StaffAction",
    "UnknownShare",
    "change_status",
    "erase",
    "national_id_key",
    "normalise_name",
    "paid_shares",
    "pay",
    "record_share_payment",
    "register",
    "subscribe",
    "subscription",
    "update",
    "validate_activities",
    "validate_email",
    "validate_iban",
    "validate_national_id",
]
