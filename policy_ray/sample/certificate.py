"""A certificate of liability insurance (ACORD 25 style): content and ground truth."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from policy_ray.sample import dates, money, names
from policy_ray.sample.truth import CoverageTruth, RecordTruth

PolicyKind = Literal["gl", "auto", "umbrella", "wc"]
POLICY_ORDER: tuple[PolicyKind, ...] = ("gl", "auto", "umbrella", "wc")  # order on the form
MILLION = 1_000_000


@dataclass(frozen=True)
class LimitLine:
    key: str  # stable id shared by the renderers (e.g. the ACORD field it fills)
    label: str  # the label pre-printed on the form
    truth_name: str
    amount: Decimal


@dataclass(frozen=True)
class CertPolicy:
    kind: PolicyKind
    insurer_letter: str
    number: str
    effective: date
    expiration: date
    limits: tuple[LimitLine, ...]
    occurrence: bool  # occurrence vs claims-made trigger (GL and umbrella)


@dataclass(frozen=True)
class Insurer:
    letter: str
    name: str
    naic: str


@dataclass(frozen=True)
class Certificate:
    issued: date
    producer: names.Agency
    insured: names.Party
    insurers: tuple[Insurer, ...]
    policies: tuple[CertPolicy, ...]
    holder: names.Party
    number: str
    remarks: str
    signer: str
    # Per policy, in the order listed: the ADDL INSD and SUBR WVD marks ("Y", "N", "X" or blank).
    marks: tuple[tuple[str, str], ...] = ()

    def insurer(self, letter: str) -> Insurer:
        return next(i for i in self.insurers if i.letter == letter)

    def record(self) -> RecordTruth:
        first = self.policies[0]
        coverages = tuple(
            CoverageTruth(
                name=line.truth_name, limit=money.truth(line.amount), deductible=None, premium=None,
                policy_number=p.number, carrier_name=self.insurer(p.insurer_letter).name,
                effective_date=dates.iso(p.effective), expiration_date=dates.iso(p.expiration),
            )
            for p in self.policies
            for line in p.limits
        )
        return RecordTruth(
            document_type="certificate",
            carrier_name=self.insurer(first.insurer_letter).name,
            policy_number=first.number,
            insured_name=self.insured.name,
            effective_date=dates.iso(first.effective),
            expiration_date=dates.iso(first.expiration),
            total_premium=None,
            currency="USD",
            coverages=coverages,
        )


def _amount(dollars: int) -> Decimal:
    return Decimal(dollars).quantize(money.CENT)


def _limits(kind: PolicyKind, rng: random.Random) -> tuple[LimitLine, ...]:
    if kind == "gl":
        occurrence = rng.choice((1, 2)) * MILLION
        aggregate = occurrence * 2
        lines = [("gl_each_occurrence", "EACH OCCURRENCE", "General Liability - Each Occurrence", occurrence)]
        if rng.random() < 0.8:
            lines.append(("gl_rented_premises", "DAMAGE TO RENTED PREMISES (Ea occurrence)",
                          "General Liability - Damage to Rented Premises", rng.choice((100_000, 300_000))))
        if rng.random() < 0.8:
            lines.append(("gl_medical", "MED EXP (Any one person)", "General Liability - Medical Expense",
                          rng.choice((5_000, 10_000))))
        lines += [
            ("gl_personal_adv", "PERSONAL & ADV INJURY", "General Liability - Personal and Advertising Injury",
             occurrence),
            ("gl_aggregate", "GENERAL AGGREGATE", "General Liability - General Aggregate", aggregate),
            ("gl_products", "PRODUCTS - COMP/OP AGG", "General Liability - Products-Completed Operations Aggregate",
             aggregate),
        ]
    elif kind == "auto":
        lines = [("auto_csl", "COMBINED SINGLE LIMIT (Ea accident)", "Auto - Combined Single Limit",
                  rng.choice((500_000, MILLION, MILLION)))]
    elif kind == "umbrella":
        amount = rng.choice((1, 2, 3, 5, 10)) * MILLION
        lines = [("umbrella_occurrence", "EACH OCCURRENCE", "Umbrella - Each Occurrence", amount),
                 ("umbrella_aggregate", "AGGREGATE", "Umbrella - Aggregate", amount)]
    else:
        accident = rng.choice((500_000, MILLION))
        lines = [("el_each_accident", "E.L. EACH ACCIDENT", "Employers Liability - Each Accident", accident),
                 ("el_disease_employee", "E.L. DISEASE - EA EMPLOYEE", "Employers Liability - Disease - Each Employee",
                  accident),
                 ("el_disease_policy", "E.L. DISEASE - POLICY LIMIT", "Employers Liability - Disease - Policy Limit",
                  accident)]
    return tuple(LimitLine(k, label, truth_name, _amount(v)) for k, label, truth_name, v in lines)


def _policy_number(kind: PolicyKind, rng: random.Random, insurer: Insurer) -> str:
    prefix = "".join(word[0] for word in insurer.name.split()[:2]).upper()
    digits = rng.randint(1000000, 9999999)
    if kind == "gl":
        return f"{prefix}GL{digits}"
    if kind == "auto":
        return f"{prefix}-BA-{digits}"
    if kind == "umbrella":
        return f"UMB {prefix}{digits}"
    return f"WC {rng.randint(10, 99)}-{digits}"


def _letter_for(kind: PolicyKind, letters: tuple[str, ...], rng: random.Random) -> str:
    if len(letters) == 1 or kind == "gl":
        return "A"
    return "B" if kind in ("umbrella", "wc") or rng.random() < 0.5 else "A"


def make_certificate(rng: random.Random) -> Certificate:
    count = rng.choice((1, 2, 2, 3, 3, 3))
    chosen = set(rng.sample(POLICY_ORDER, count))
    kinds = tuple(k for k in POLICY_ORDER if k in chosen)
    letters = ("A", "B") if count > 1 and rng.random() < 0.6 else ("A",)
    insurers = {letter: Insurer(letter, names.insurer_name(rng), names.naic(rng)) for letter in letters}
    effective = dates.random_effective(rng)
    policies = []
    for i, kind in enumerate(kinds):
        letter = _letter_for(kind, letters, rng)
        # Later policies sometimes run on their own term.
        eff = effective if i == 0 or rng.random() < 0.75 else dates.add_months(effective, rng.randint(1, 5))
        policies.append(CertPolicy(kind, letter, _policy_number(kind, rng, insurers[letter]), eff,
                                   dates.add_months(eff, 12), _limits(kind, rng), rng.random() < 0.85))
    # Letter the insurers actually used A, B, ... as a producer would fill the form.
    relabel = {old: new for new, old in zip("AB", sorted({p.insurer_letter for p in policies}), strict=False)}
    holder = names.Party(names.holder_name(rng), names.address(rng))
    cert = Certificate(
        issued=effective + timedelta(days=rng.randint(-10, 150)),
        producer=names.agency(rng),
        insured=names.insured(rng),
        insurers=tuple(replace(insurers[old], letter=new) for old, new in relabel.items()),
        policies=tuple(replace(p, insurer_letter=relabel[p.insurer_letter]) for p in policies),
        holder=holder,
        number=f"{rng.randint(10000000, 99999999)}",
        remarks=rng.choice((
            "Certificate holder is included as additional insured where required by written contract.",
            "Evidence of coverage for the lease of the premises described in the contract.",
            "Waiver of subrogation applies in favor of the certificate holder where required by contract.",
        )),
        signer=names.person(rng),
    )
    # Drawn last so that the rest of a certificate stays what the same seed always gave.
    if rng.random() < 0.5:
        cert = replace(cert, marks=tuple((rng.choice(("Y", "X", "")), rng.choice(("Y", "N", ""))) for _ in policies))
    return cert
