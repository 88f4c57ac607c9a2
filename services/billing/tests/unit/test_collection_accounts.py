from collections import defaultdict

from billing.domain.rules import BillingRules, collection_account_branch
from smart_shared.rulepacks import all_packs

from .sample_statements import BE_ACCOUNT, FR_ACCOUNT


def test_each_collection_account_is_its_branchs() -> None:
    assert collection_account_branch(BE_ACCOUNT) == "BE"
    assert collection_account_branch(FR_ACCOUNT) == "FR"


def test_an_account_is_recognised_written_with_spaces_or_in_lower_case() -> None:
    assert collection_account_branch("be68 5390 0754 7034") == "BE"


def test_an_account_of_no_branch_is_no_ones() -> None:
    assert collection_account_branch("BE62510007547061") is None


def test_no_account_collects_for_two_branches() -> None:
    branches_of: defaultdict[str, set[str]] = defaultdict(set)
    for pack in all_packs():
        branches_of[pack.section("billing", BillingRules).seller.iban.value].add(pack.branch)
    assert all(len(branches) == 1 for branches in branches_of.values()), branches_of
