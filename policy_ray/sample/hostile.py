"""Files a nightly feed really receives that must not be ingested."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject

ZIP_TIME = (2026, 1, 5, 2, 30, 0)  # fixed member timestamps keep the archive byte-stable


def truncate(pdf: bytes, rng: random.Random) -> bytes:
    """About the first 55% of a PDF, as an interrupted transfer leaves it."""
    return pdf[: int(len(pdf) * rng.uniform(0.52, 0.58))]


def _html(rng: random.Random) -> bytes:
    ref = rng.randint(100000, 999999)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Agent Portal - Session Expired</title></head>\n<body><h1>Your session has expired</h1>"
        f"<p>Please sign in again to download this document. Reference {ref}.</p></body></html>\n"
    ).encode("ascii")


def _zip(rng: random.Random) -> bytes:
    rows = ["policy_ref,line,status"] + [f"{rng.randint(100000, 999999)},{line},bound"
                                         for line in rng.sample(("CPP", "BOP", "GL", "WC", "AUTO"), 3)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        member = zipfile.ZipInfo("export/bordereau.csv", date_time=ZIP_TIME)
        member.compress_type = zipfile.ZIP_DEFLATED
        member.external_attr = 0o644 << 16
        archive.writestr(member, "\n".join(rows) + "\n")
    return buf.getvalue()


def not_a_pdf(rng: random.Random) -> bytes:
    """A portal error page or a zipped export, saved under a .pdf name."""
    return _html(rng) if rng.random() < 0.5 else _zip(rng)


class _StableIdWriter(PdfWriter):
    """pypdf draws the second file identifier from os randomness on encryption; pin it."""

    stable_id: bytes = b""

    def generate_file_identifiers(self) -> None:
        ident = ByteStringObject(self.stable_id)
        self._ID = ArrayObject((ident, ident))


def encrypt(pdf: bytes, rng: random.Random) -> bytes:
    """Password-protect a PDF with a non-empty user password.

    RC4-128 rather than AES: pypdf's AES paths draw keys and IVs from the OS
    random source, which would break byte-identical nights; RC4's key derives
    only from the passwords and the (pinned) file ID.
    """
    writer = _StableIdWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.stable_id = hashlib.md5(pdf, usedforsecurity=False).digest()
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
