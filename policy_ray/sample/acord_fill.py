"""Fill the blank fillable ACORD 25 with pypdf: live form fields, or flattened into the page."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from policy_ray.sample import dates, money
from policy_ray.sample.certificate import Certificate, CertPolicy, PolicyKind

CHECKED = "/1"  # the on-state name of every check box on this form

# Per policy kind: insurer-letter, policy-number, effective and expiration fields.
POLICY_FIELDS: dict[PolicyKind, tuple[str, str, str, str]] = {
    "gl": ("GeneralLiability_InsurerLetterCode_A", "Policy_GeneralLiability_PolicyNumberIdentifier_A",
           "Policy_GeneralLiability_EffectiveDate_A", "Policy_GeneralLiability_ExpirationDate_A"),
    "auto": ("Vehicle_InsurerLetterCode_A", "Policy_AutomobileLiability_PolicyNumberIdentifier_A",
             "Policy_AutomobileLiability_EffectiveDate_A", "Policy_AutomobileLiability_ExpirationDate_A"),
    "umbrella": ("ExcessUmbrella_InsurerLetterCode_A", "Policy_ExcessLiability_PolicyNumberIdentifier_A",
                 "Policy_ExcessLiability_EffectiveDate_A", "Policy_ExcessLiability_ExpirationDate_A"),
    "wc": ("WorkersCompensationEmployersLiability_InsurerLetterCode_A",
           "Policy_WorkersCompensationAndEmployersLiability_PolicyNumberIdentifier_A",
           "Policy_WorkersCompensationAndEmployersLiability_EffectiveDate_A",
           "Policy_WorkersCompensationAndEmployersLiability_ExpirationDate_A"),
}
LIMIT_FIELDS: dict[str, str] = {
    "gl_each_occurrence": "GeneralLiability_EachOccurrence_LimitAmount_A",
    "gl_rented_premises": "GeneralLiability_FireDamageRentedPremises_EachOccurrenceLimitAmount_A",
    "gl_medical": "GeneralLiability_MedicalExpense_EachPersonLimitAmount_A",
    "gl_personal_adv": "GeneralLiability_PersonalAndAdvertisingInjury_LimitAmount_A",
    "gl_aggregate": "GeneralLiability_GeneralAggregate_LimitAmount_A",
    "gl_products": "GeneralLiability_ProductsAndCompletedOperations_AggregateLimitAmount_A",
    "auto_csl": "Vehicle_CombinedSingleLimit_EachAccidentAmount_A",
    "umbrella_occurrence": "ExcessUmbrella_Umbrella_EachOccurrenceAmount_A",
    "umbrella_aggregate": "ExcessUmbrella_Umbrella_AggregateAmount_A",
    "el_each_accident": "WorkersCompensationEmployersLiability_EmployersLiability_EachAccidentLimitAmount_A",
    "el_disease_employee": "WorkersCompensationEmployersLiability_EmployersLiability_DiseaseEachEmployeeLimitAmount_A",
    "el_disease_policy": "WorkersCompensationEmployersLiability_EmployersLiability_DiseasePolicyLimitAmount_A",
}


# Per policy kind: the ADDL INSD and SUBR WVD fields (workers compensation has no additional insured).
MARK_FIELDS: dict[PolicyKind, tuple[str | None, str]] = {
    "gl": ("CertificateOfInsurance_GeneralLiability_AdditionalInsuredCode_A",
           "Policy_GeneralLiability_SubrogationWaivedCode_A"),
    "auto": ("CertificateOfInsurance_AutomobileLiability_AdditionalInsuredCode_A",
             "Policy_AutomobileLiability_SubrogationWaivedCode_A"),
    "umbrella": ("CertificateOfInsurance_ExcessLiability_AdditionalInsuredCode_A",
                 "Policy_ExcessLiability_SubrogationWaivedCode_A"),
    "wc": (None, "Policy_WorkersCompensation_SubrogationWaivedCode_A"),
}


def _checks(policy: CertPolicy) -> list[str]:
    if policy.kind == "gl":
        trigger = "GeneralLiability_OccurrenceIndicator_A" if policy.occurrence else \
            "GeneralLiability_ClaimsMadeIndicator_A"
        return ["GeneralLiability_CoverageIndicator_A", trigger,
                "GeneralLiability_GeneralAggregate_LimitAppliesPerPolicyIndicator_A"]
    if policy.kind == "auto":
        return ["Vehicle_AnyAutoIndicator_A"]
    if policy.kind == "umbrella":
        trigger = "ExcessUmbrella_OccurrenceIndicator_A" if policy.occurrence else \
            "ExcessUmbrella_ClaimsMadeIndicator_A"
        return ["Policy_PolicyType_UmbrellaIndicator_A", trigger]
    return ["WorkersCompensationEmployersLiability_WorkersCompensationStatutoryLimitIndicator_A"]


def field_values(cert: Certificate) -> dict[str, str]:
    """Partial field names (without the [0] suffix) -> values, as a producer would type them."""
    producer, insured, holder = cert.producer, cert.insured, cert.holder
    values = {
        "Form_CompletionDate_A": dates.mdy(cert.issued),
        "Producer_FullName_A": producer.party.name,
        "Producer_MailingAddress_LineOne_A": producer.party.address.lines()[0],
        "Producer_MailingAddress_CityName_A": producer.party.address.city,
        "Producer_MailingAddress_StateOrProvinceCode_A": producer.party.address.state,
        "Producer_MailingAddress_PostalCode_A": producer.party.address.postal,
        "Producer_ContactPerson_FullName_A": producer.contact,
        "Producer_ContactPerson_PhoneNumber_A": producer.phone,
        "Producer_FaxNumber_A": producer.fax,
        "Producer_ContactPerson_EmailAddress_A": producer.email,
        "NamedInsured_FullName_A": insured.name,
        "NamedInsured_MailingAddress_LineOne_A": insured.address.lines()[0],
        "NamedInsured_MailingAddress_CityName_A": insured.address.city,
        "NamedInsured_MailingAddress_StateOrProvinceCode_A": insured.address.state,
        "NamedInsured_MailingAddress_PostalCode_A": insured.address.postal,
        "CertificateOfInsurance_CertificateNumberIdentifier_A": cert.number,
        "CertificateOfLiabilityInsurance_ACORDForm_RemarkText_A": cert.remarks,
        "CertificateHolder_FullName_A": holder.name,
        "CertificateHolder_MailingAddress_LineOne_A": holder.address.lines()[0],
        "CertificateHolder_MailingAddress_CityName_A": holder.address.city,
        "CertificateHolder_MailingAddress_StateOrProvinceCode_A": holder.address.state,
        "CertificateHolder_MailingAddress_PostalCode_A": holder.address.postal,
        "Producer_AuthorizedRepresentative_Signature_A": cert.signer,
    }
    for insurer in cert.insurers:
        values[f"Insurer_FullName_{insurer.letter}"] = insurer.name
        values[f"Insurer_NAICCode_{insurer.letter}"] = insurer.naic
    for policy in cert.policies:
        letter_f, number_f, eff_f, exp_f = POLICY_FIELDS[policy.kind]
        values |= {letter_f: policy.insurer_letter, number_f: policy.number,
                   eff_f: dates.mdy(policy.effective), exp_f: dates.mdy(policy.expiration)}
        values |= {LIMIT_FIELDS[line.key]: money.grouped(line.amount, decimals=False) for line in policy.limits}
        values |= {name: CHECKED for name in _checks(policy)}
        if policy.kind == "wc":
            values["WorkersCompensationEmployersLiability_AnyPersonsExcludedIndicator_A"] = "N"
    for policy, marks in zip(cert.policies, cert.marks, strict=False):
        for name, mark in zip(MARK_FIELDS[policy.kind], marks, strict=True):
            if name and mark:
                values[name] = mark
    return values


@lru_cache(maxsize=4)
def _blank(path: Path) -> PdfReader:
    # Parsed once and only ever read: each writer clones it (the file is never written).
    return PdfReader(io.BytesIO(path.read_bytes()))


def _wrap_in_graphics_state(writer: PdfWriter, page: PageObject) -> None:
    # The form's page content leaves a scaling matrix in effect; without q/Q around
    # it, flattened field appearances appended after it would be drawn shrunken.
    content = page.get_contents()
    assert content is not None
    wrapped = ContentStream(None, writer)
    wrapped.set_data(b"q\n" + content.get_data() + b"\nQ\n")
    page.replace_contents(wrapped)


def fill_acord25(blank: Path, cert: Certificate, flatten: bool) -> bytes:
    writer = PdfWriter(clone_from=_blank(blank))
    root = writer._root_object  # no public accessor for catalog entries pypdf does not model
    # Drop the XFA twin and the XFA rendering hint so viewers honour the AcroForm values.
    acro_form = cast(DictionaryObject, root["/AcroForm"].get_object())
    for owner, key in ((acro_form, "/XFA"), (root, "/NeedsRendering")):
        if key in owner:
            del owner[key]
    values = {f"{name}[0]": value for name, value in field_values(cert).items()}
    page = writer.pages[0]
    if flatten:
        _wrap_in_graphics_state(writer, page)
        writer.update_page_form_field_values(page, values, auto_regenerate=False, flatten=True)
        writer.remove_annotations(subtypes="/Widget")
        del root[NameObject("/AcroForm")]
    else:
        writer.update_page_form_field_values(page, values, auto_regenerate=True)
    page.compress_content_streams()
    # Drop what nothing references any more: the XFA streams and, after flattening,
    # one superseded content stream per field.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
