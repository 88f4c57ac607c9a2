"""Members, cooperative shares, payout details, GDPR erasure."""
