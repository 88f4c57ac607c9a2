"""The signing page's terms and the evidence kept with the client's signature."""

from __future__ import annotations

from datetime import timedelta

import pytest
from contracts.domain import (
    Contract,
    ContractStatus,
    SignatureEvidence,
    SigningRefused,
    TermsChanged,
    issue_signing_link,
    terms_digest,
)

from .test_lifecycle import NOW, a_contract


def submitted() -> tuple[Contract, str]:
    contract = a_contract()
    link = issue_signing_link(NOW, 14)
    contract.submit(link, NOW)
    return contract, link.token


def test_the_terms_hold_what_the_client_agrees_to() -> None:
    terms = a_contract().terms
    assert terms["client"]["name"] == "Acme"
    assert terms["work_days"] == ["2026-03-10", "2026-03-11"]
    assert terms["amount_excl_vat"] == {"amount": "1000.00", "currency": "EUR"}
    assert terms["payment_term_days"] == 30


def test_the_terms_digest_changes_with_any_term_and_not_with_key_order() -> None:
    terms = a_contract().terms
    assert terms_digest(terms) == terms_digest(dict(reversed(list(terms.items()))))
    changed = dict(terms, description="Two concerts")
    assert terms_digest(changed) != terms_digest(terms)
    assert len(terms_digest(terms)) == 64


def test_checking_a_token_to_show_the_terms_does_not_use_it() -> None:
    contract, token = submitted()
    contract.check_signing_token(token, NOW)
    assert contract.signing is not None and contract.signing.used_at is None
    assert contract.status == ContractStatus.SUBMITTED


def test_an_expired_token_shows_no_terms() -> None:
    contract, token = submitted()
    with pytest.raises(SigningRefused) as refused:
        contract.check_signing_token(token, NOW + timedelta(days=15))
    assert refused.value.reason == "expired"


def test_the_signature_keeps_the_signers_name_address_browser_and_terms_digest() -> None:
    contract, token = submitted()
    digest = terms_digest(contract.terms)
    contract.sign_by_client(token, "10.0.0.1", NOW, None,
                            SignatureEvidence("Ann Peeters", digest, "Firefox/140", "192.0.2.7"))
    signature = contract.client_signature
    assert signature is not None
    assert (signature.signer_name, signature.user_agent, signature.terms_sha256,
            signature.ip, signature.signed_at) == (
        "Ann Peeters", "Firefox/140", digest, "192.0.2.7", NOW)


def test_a_signature_on_other_terms_is_refused_and_leaves_the_link_unused() -> None:
    contract, token = submitted()
    other = terms_digest(dict(contract.terms, amount_excl_vat={"amount": "1.00"}))
    with pytest.raises(TermsChanged):
        contract.sign_by_client(token, "10.0.0.1", NOW, None,
                                SignatureEvidence("Ann Peeters", other))
    assert contract.signing is not None and contract.signing.used_at is None
    assert contract.status == ContractStatus.SUBMITTED


def test_a_signature_without_evidence_still_records_the_connection_address() -> None:
    contract, token = submitted()
    contract.sign_by_client(token, "10.0.0.1", NOW, None)
    assert contract.client_signature is not None
    assert contract.client_signature.ip == "10.0.0.1"
    assert contract.client_signature.signer_name is None
