from datetime import date
from decimal import Decimal

from billing.domain.invoice import due_date, invoice_amounts, invoice_terms
from billing.domain.rules import billing_rules
from billing.domain.vat import decide_vat
from smart_shared.events.catalogue import Address, Client

RULES = billing_rules("BE", date(2026, 3, 1))
RATE = Decimal("0.21")


def client(kind: str = "business", country: str = "BE", vat: str | None = "BE0417497106") -> Client:
    return Client(
        client_key=vat or "consumer-key", name="Client", kind=kind, country=country,  # type: ignore[arg-type]
        email="c@example.com", vat_number=vat,
        address=Address(street="Rue 1", postal_code="1000", city="City", country=country),
    )


def test_a_belgian_business_pays_21_percent() -> None:
    vat = decide_vat("BE", client(), RATE, "rc", "out")
    assert (vat.rate, vat.category, vat.reverse_charge, vat.mention) == (RATE, "S", False, None)


def test_an_eu_business_with_a_foreign_vat_number_is_reverse_charged_with_the_mention() -> None:
    vat = decide_vat("BE", client(country="NL", vat="NL004495445B01"), RATE, "rc", "out")
    assert (vat.rate, vat.category, vat.reverse_charge, vat.mention) == (0, "AE", True, "rc")


def test_a_greek_vat_number_counts_as_another_member_state() -> None:
    vat = decide_vat("BE", client(country="GR", vat="EL094259216"), RATE, "rc", "out")
    assert vat.reverse_charge


def test_a_consumer_pays_the_branch_rate_wherever_they_live() -> None:
    vat = decide_vat("BE", client("consumer", "FR", None), RATE, "rc", "out")
    assert (vat.rate, vat.reverse_charge) == (RATE, False)


def test_an_eu_business_without_a_vat_number_pays_the_branch_rate() -> None:
    vat = decide_vat("BE", client(country="DE", vat=None), RATE, "rc", "out")
    assert (vat.rate, vat.reverse_charge) == (RATE, False)


def test_a_business_outside_the_eu_is_outside_the_scope() -> None:
    vat = decide_vat("BE", client(country="CH", vat=None), RATE, "rc", "out")
    assert (vat.rate, vat.category, vat.mention) == (0, "O", "out")


def test_france_charges_20_percent_and_reverse_charges_a_belgian_business() -> None:
    rules = billing_rules("FR", date(2026, 3, 1))
    fr = decide_vat("FR", client(country="FR", vat="FR40303265045"), Decimal("0.20"), "rc", "out")
    be = decide_vat("FR", client(), Decimal("0.20"), "rc", "out")
    assert fr.rate == Decimal("0.20") and be.reverse_charge
    assert "283-2" in rules.reverse_charge_mention.value


def test_vat_is_rounded_half_up_to_the_cent() -> None:
    vat = decide_vat("BE", client(), RATE, "rc", "out")
    amounts = invoice_amounts(Decimal("100.50"), vat)
    assert amounts.vat_amount == Decimal("21.11")  # 21.105 → 21.11
    assert amounts.total == Decimal("121.61")


def test_due_date_is_issue_date_plus_the_contract_term_capped_at_60_days() -> None:
    assert due_date(date(2026, 3, 1), 30, RULES) == date(2026, 3, 31)
    assert due_date(date(2026, 3, 1), None, RULES) == date(2026, 3, 31)
    assert due_date(date(2026, 3, 1), 90, RULES) == date(2026, 4, 30)


def test_belgian_terms_carry_number_and_structured_communication() -> None:
    terms = invoice_terms("BE", 7, date(2026, 5, 4), client(), Decimal("1000.00"), 45,
                          RULES, RATE)
    assert terms.number == "BE-2026-000007"
    assert terms.due_date == date(2026, 6, 18)
    assert terms.amounts.total == Decimal("1210.00")
    assert terms.structured_reference == "+++202/6000/00701+++"


def test_french_invoices_have_no_belgian_communication() -> None:
    rules = billing_rules("FR", date(2026, 5, 4))
    terms = invoice_terms("FR", 1, date(2026, 5, 4), client(country="FR", vat="FR40303265045"),
                          Decimal("100.00"), 30, rules, Decimal("0.20"))
    assert terms.structured_reference is None
    assert terms.number == "FR-2026-000001"
    assert terms.amounts.vat_amount == Decimal("20.00")


def treatment(nature: str, branch: str = "BE"):  # type: ignore[no-untyped-def]
    return billing_rules(branch, date(2026, 3, 1)).vat_by_work_nature.get(nature)


def test_a_copyright_licence_is_taxed_at_6_percent_by_royal_decree_20_rubric_xxix_1() -> None:
    vat = decide_vat("BE", client(), RATE, "rc", "out", treatment("copyright"))
    assert (vat.rate, vat.category) == (Decimal("0.06"), "S")
    assert "rubric XXIX, 1" in (vat.mention or "")
    assert "rubric XXIX" in treatment("copyright").rate.source  # type: ignore[union-attr]


def test_a_performance_for_anyone_but_an_organiser_is_taxed_at_6_percent_by_rubric_xxix_2() -> None:
    french = client().model_copy(update={"language": "fr"})
    vat = decide_vat("BE", french, RATE, "rc", "out", treatment("performance"))
    assert (vat.rate, vat.category) == (Decimal("0.06"), "S")
    assert vat.mention == ("TVA 6 % — exécution d'œuvres par des artistes "
                           "(A.R. n° 20, tableau A, rubrique XXIX, 2)")


def test_a_performance_supplied_to_an_organiser_is_exempt_by_article_44_2_8_in_dutch() -> None:
    dutch = client().model_copy(update={"language": "nl"})
    vat = decide_vat("BE", dutch, RATE, "rc", "out", treatment("performance_for_organiser"))
    assert (vat.rate, vat.category, vat.exemption_reason_code) == (Decimal("0.00"), "E", None)
    assert (vat.mention or "").startswith("Vrijgesteld van btw — artikel 44, § 2, 8°")


def test_the_reverse_charge_of_an_eu_business_comes_before_a_reduced_rate_or_an_exemption() -> None:
    dutch_business = client(country="NL", vat="NL004495445B01")
    for nature in ("copyright", "performance", "performance_for_organiser"):
        vat = decide_vat("BE", dutch_business, RATE, "rc", "out", treatment(nature))
        assert (vat.category, vat.mention) == ("AE", "rc")


def test_a_consumer_buying_a_copyright_licence_pays_the_reduced_rate_too() -> None:
    vat = decide_vat("BE", client("consumer", "BE", None), RATE, "rc", "out",
                     treatment("copyright"))
    assert vat.rate == Decimal("0.06")


def test_other_work_has_no_treatment_and_pays_the_standard_rate() -> None:
    assert treatment("other") is None
    vat = decide_vat("BE", client(), RATE, "rc", "out", treatment("other"))
    assert (vat.rate, vat.category, vat.mention) == (RATE, "S", None)


def test_france_taxes_a_copyright_transfer_at_10_percent_by_cgi_article_279_g() -> None:
    french = client(country="FR", vat="FR40303265045").model_copy(update={"language": "fr"})
    vat = decide_vat("FR", french, Decimal("0.20"), "rc", "out", treatment("copyright", "FR"))
    assert vat.rate == Decimal("0.10") and "279 g" in (vat.mention or "")


def test_france_does_not_handle_performances_yet_they_pay_the_standard_rate() -> None:
    assert treatment("performance", "FR") is None
    assert treatment("performance_for_organiser", "FR") is None


def test_an_invoice_for_a_copyright_licence_carries_6_percent_vat() -> None:
    terms = invoice_terms("BE", 1, date(2026, 3, 1), client(), Decimal("1000.00"), None, RULES,
                          RATE, "copyright")
    assert (terms.amounts.vat_amount, terms.amounts.total) == (Decimal("60.00"),
                                                               Decimal("1060.00"))


def write_off_rules(branch: str = "BE"):  # type: ignore[no-untyped-def]
    return billing_rules(branch, date(2026, 9, 1)).write_off


def test_a_lost_debt_gives_back_its_vat_by_article_77_1_7_and_a_business_gets_a_document() -> None:
    from billing.domain.write_off import vat_regularisation

    regularisation = vat_regularisation(Decimal("1210.00"), RATE, "S", "business",
                                        write_off_rules())
    assert (regularisation.lost_excl_vat, regularisation.vat_recovered) == (
        Decimal("1000.00"), Decimal("210.00"))
    assert regularisation.document_to_client
    assert "77 §1 7°" in write_off_rules().vat_recoverable.source  # type: ignore[union-attr]


def test_a_consumer_deducted_nothing_and_receives_no_vat_document() -> None:
    from billing.domain.write_off import vat_regularisation

    regularisation = vat_regularisation(Decimal("121.00"), RATE, "S", "consumer",
                                        write_off_rules())
    assert regularisation.vat_recovered == Decimal("21.00")
    assert not regularisation.document_to_client


def test_a_reverse_charged_or_exempt_lost_debt_has_no_vat_to_recover() -> None:
    from billing.domain.write_off import vat_regularisation

    for category in ("AE", "E", "O"):
        regularisation = vat_regularisation(Decimal("500.00"), Decimal("0"), category,
                                            "business", write_off_rules())
        assert (regularisation.vat_recovered, regularisation.document_to_client) == (0, False)


def test_in_france_a_service_pays_vat_on_receipt_so_a_lost_debt_has_none_to_recover() -> None:
    from billing.domain.write_off import vat_regularisation

    regularisation = vat_regularisation(Decimal("1200.00"), Decimal("0.20"), "S", "business",
                                        write_off_rules("FR"))
    assert (regularisation.vat_recovered, regularisation.document_to_client) == (0, False)
    assert "269-2 c" in write_off_rules("FR").vat_recoverable.source  # type: ignore[union-attr]


def test_a_payment_after_the_write_off_makes_its_vat_part_due_again_up_to_what_was_recovered(
) -> None:
    from billing.domain.write_off import vat_due_again

    assert vat_due_again(Decimal("121.00"), RATE, Decimal("210.00"), Decimal("0")) == Decimal(
        "21.00")
    assert vat_due_again(Decimal("1210.00"), RATE, Decimal("210.00"), Decimal("200.00")) == \
        Decimal("10.00")
