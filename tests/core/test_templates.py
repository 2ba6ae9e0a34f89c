"""Template fingerprints: a carrier's template needs a distinctive sign, not a mention of the carrier."""

from __future__ import annotations

from policy_ray.core.templates import template_from_dict

CEDAR = template_from_dict({
    "id": "t", "version": "1", "carrier_name": "Cedar Ridge Casualty Company",
    "fingerprint": {"all": ["Cedar Ridge Casualty Company"], "any": ["CRC BP DEC"],
                    "heading": ["Cedar Ridge Casualty Company"]},
})


def test_a_mention_of_the_carrier_is_no_fingerprint() -> None:
    text = "BUSINESSOWNERS POLICY DECLARATIONS\nPrior Carrier: Cedar Ridge Casualty Company"
    assert not CEDAR.matches_text(text, heading="Lakeshore Mutual Insurance Company")


def test_a_form_code_or_the_name_in_the_heading_is() -> None:
    assert CEDAR.matches_text("Cedar Ridge Casualty Company\n...\nCRC BP DEC 2025", heading="")
    assert CEDAR.matches_text("Cedar Ridge Casualty Company\nDECLARATIONS", heading="Cedar Ridge Casualty Company")


def test_alternative_fingerprints_identify_look_alikes() -> None:
    acord = template_from_dict({
        "id": "a", "version": "1",
        "fingerprint": {"all": ["CERTIFICATE OF LIABILITY INSURANCE"],
                        "alternatives": [["INSURER A", "POLICY EFF", "POLICY EXP", "POLICY NUMBER"]]},
    })
    assert acord.matches_text("CERTIFICATE OF LIABILITY INSURANCE")
    assert acord.matches_text("EVIDENCE OF INSURANCE\nINSURER A : X\nPOLICY NUMBER POLICY EFF POLICY EXP")
    assert not acord.matches_text("EVIDENCE OF INSURANCE\nINSURER A : X\nPOLICY NUMBER")
