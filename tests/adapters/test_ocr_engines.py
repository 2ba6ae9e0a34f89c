"""OCR adapters against the real things: pypdfium2 renders, Pillow decodes, tesseract and RapidOCR read.

Test pages are generated here with reportlab (13 pt Helvetica) so every expected word position is
known in PDF points.
"""

from __future__ import annotations

import io
import resource
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from policy_ray.adapters.images import iter_image_pages, sniff_kind
from policy_ray.adapters.ocr_result import OcrResult, estimate_skew
from policy_ray.adapters.ocr_tesseract import TesseractEngine, words_from_data
from policy_ray.adapters.render import choose_dpi, page_count, render_page
from policy_ray.core.models import Word
from policy_ray.errors import FailureCategory, PolicyRayError

POLICY_NUMBER = "HMI-CPP-4839201"
LABEL = "Policy Number: "
FONT_SIZE = 13
LEFT = 72.0
POLICY_BASELINE = 680.0  # from the bottom, as reportlab draws
PAGE_W, PAGE_H = 612.0, 792.0
MAX_PIXELS = 40_000_000


def declarations_pdf(coverage_lines: int = 6) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H))
    c.setFont("Helvetica-Bold", 16)
    c.drawString(LEFT, 720, "COMMERCIAL PACKAGE POLICY DECLARATIONS")
    c.setFont("Helvetica", FONT_SIZE)
    y = POLICY_BASELINE
    for line in (LABEL + POLICY_NUMBER, "Named Insured: Quill Ladder Bakery LLC",
                 "Policy Period: From 03/01/2026 To 03/01/2027", "Carrier: Harbor Mutual Insurance Company"):
        c.drawString(LEFT, y, line)
        y -= 24
    c.setFont("Helvetica", 11)
    for i in range(coverage_lines):
        y -= 18
        c.drawString(LEFT, y, f"Coverage Part {i + 1}: General Liability Each Occurrence Limit $1,000,000")
    c.showPage()
    c.save()
    return buf.getvalue()


def expected_policy_box() -> tuple[float, float, float]:
    """(x0, x1, baseline) of the policy number in top-left-origin points."""
    x0 = LEFT + stringWidth(LABEL, "Helvetica", FONT_SIZE)
    return x0, x0 + stringWidth(POLICY_NUMBER, "Helvetica", FONT_SIZE), PAGE_H - POLICY_BASELINE


def find(words: tuple[Word, ...], text: str) -> Word:
    hits = [w for w in words if w.text == text]
    assert hits, f"{text!r} not read; got {' '.join(w.text for w in words)[:400]}"
    return hits[0]


def assert_policy_number_at_home(result: OcrResult, tolerance: float = 3.0) -> None:
    word = find(result.words, POLICY_NUMBER)
    x0, x1, baseline = expected_policy_box()
    assert abs(word.x0 - x0) < tolerance and abs(word.x1 - x1) < tolerance
    assert abs(word.bottom - baseline) < tolerance  # no descenders in the number: its box sits on the baseline
    assert abs(word.top - (baseline - 0.718 * FONT_SIZE)) < tolerance  # Helvetica cap height
    assert (result.width, result.height) == pytest.approx((PAGE_W, PAGE_H), abs=0.5)


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return declarations_pdf()


@pytest.fixture(scope="module")
def page200(pdf_bytes: bytes) -> tuple[Image.Image, float]:
    rendered = render_page(pdf_bytes, 0, dpi=200, max_pixels=MAX_PIXELS)
    return rendered.image, rendered.scale


@pytest.fixture(scope="module")
def tesseract() -> TesseractEngine:
    return TesseractEngine(timeout_s=60)


# --- pure parsing -------------------------------------------------------------------------------


def test_words_from_data_is_pure_and_keeps_low_confidence_words() -> None:
    data: dict[str, list[Any]] = {
        "level": [1, 5, 5, 5, 5, 4],
        "text": ["", "Policy", "HMI-CPP-4839201", "  ", "Quill", "line"],
        "conf": [-1, 96, 3, 90, "41.5", -1],
        "left": [0, 100, 300, 10, 50, 0],
        "top": [0, 200, 200, 0, 400, 0],
        "width": [1700, 120, 280, 5, 80, 900],
        "height": [2200, 30, 30, 5, 30, 40],
    }
    words = words_from_data(data, scale=2.0)
    assert [w.text for w in words] == ["Policy", "HMI-CPP-4839201", "Quill"]
    assert words[0] == Word("Policy", 50.0, 100.0, 110.0, 115.0, 0.96)
    assert words[1].conf == pytest.approx(0.03)  # a correct word at 3: kept, with its confidence
    assert words[2].conf == pytest.approx(0.415)
    assert [w.text for w in words_from_data(data, scale=2.0, min_conf=0.5)] == ["Policy"]
    assert words_from_data({}, scale=1.0) == ()


def test_words_from_lines_shares_a_line_box_by_character_count() -> None:
    from policy_ray.adapters.ocr_rapid import words_from_lines

    box = [[100.0, 50.0], [300.0, 50.0], [300.0, 80.0], [100.0, 80.0]]  # 20 characters, 10 px each
    words = words_from_lines([(box, "Named Insured: Quill", 0.9), (box, "   ", 0.2)], scale=2.0)
    assert [w.text for w in words] == ["Named", "Insured:", "Quill"]
    assert words[0] == Word("Named", 50.0, 25.0, 75.0, 40.0, 0.9)
    assert (words[1].x0, words[1].x1) == (80.0, 120.0)
    assert (words[2].x0, words[2].x1) == (125.0, 150.0)
    assert all(w.conf == 0.9 for w in words)


def test_uppercase_context_reads_l_as_capital_i_only_among_capitals() -> None:
    from policy_ray.adapters.ocr_rapid import uppercase_context

    assert uppercase_context("HMl-CPP-4839201") == "HMI-CPP-4839201"
    assert uppercase_context("LLC") == "LLC"
    for kept in ("Ladder", "Quill", "l", "Xl", "1,000,000", "lD"):
        assert uppercase_context(kept) == kept


def test_sniff_kind() -> None:
    assert sniff_kind(b"%PDF-1.7\n") == "pdf"
    assert sniff_kind(b"\x89PNG\r\n\x1a\n....") == "png"
    assert sniff_kind(b"\xff\xd8\xff\xe0..JFIF") == "jpeg"
    assert sniff_kind(b"II*\x00....") == "tiff" and sniff_kind(b"MM\x00*....") == "tiff"
    assert sniff_kind(b"PK\x03\x04") is None and sniff_kind(b"") is None


# --- rendering ----------------------------------------------------------------------------------


def test_render_gray_page_in_points(pdf_bytes: bytes) -> None:
    assert page_count(pdf_bytes) == 1
    rendered = render_page(pdf_bytes, 0, dpi=200, max_pixels=MAX_PIXELS)
    assert rendered.image.mode == "L" and rendered.image.size == (1700, 2200)
    assert (rendered.width, rendered.height, rendered.dpi) == (PAGE_W, PAGE_H, 200)
    assert rendered.scale == pytest.approx(200 / 72)


def test_render_lowers_dpi_to_fit_the_cap(pdf_bytes: bytes) -> None:
    rendered = render_page(pdf_bytes, 0, dpi=300, max_pixels=2_000_000)
    assert 100 <= rendered.dpi < 300
    assert rendered.image.width * rendered.image.height <= 2_000_000
    assert choose_dpi(PAGE_W, PAGE_H, dpi=300, max_pixels=2_000_000) == rendered.dpi


def test_render_refuses_a_giant_page_without_allocating_it() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(14400, 14400))  # 200 x 200 inches: 400 Mpx even at 100 dpi
    c.drawString(72, 72, "tiny")
    c.showPage()
    c.save()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(PolicyRayError) as info:
        render_page(buf.getvalue(), 0, dpi=200, max_pixels=MAX_PIXELS)
    assert info.value.category == FailureCategory.IMAGE_TOO_LARGE
    assert time.perf_counter() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100_000  # KiB: no 400 MB bitmap


def test_render_maps_pdfium_errors(tmp_path: Path, pdf_bytes: bytes) -> None:
    from pypdf import PdfReader, PdfWriter

    with pytest.raises(PolicyRayError) as info:
        render_page(b"%PDF-1.4\nthis is not a pdf", 0, dpi=200, max_pixels=MAX_PIXELS)
    assert info.value.category == FailureCategory.MALFORMED_PDF
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(PolicyRayError) as info:
        page_count(locked.getvalue())
    assert info.value.category == FailureCategory.ENCRYPTED


# --- image inputs -------------------------------------------------------------------------------


def _png_with_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height, with a token IDAT: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(
        b"IEND", b"")


def _pages(data: bytes, max_pixels: int = MAX_PIXELS) -> Iterator[tuple[int, Image.Image, float, float, float]]:
    for page in iter_image_pages(data, max_pixels=max_pixels):
        yield page.index, page.image, page.width, page.height, page.dpi


def test_multi_page_tiff_yields_each_frame(page200: tuple[Image.Image, float]) -> None:
    image, _ = page200
    second = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    buf = io.BytesIO()
    image.save(buf, format="TIFF", save_all=True, append_images=[second], compression="tiff_lzw", dpi=(200, 200))
    assert sniff_kind(buf.getvalue()) == "tiff"
    pages = list(_pages(buf.getvalue()))
    assert [p[0] for p in pages] == [0, 1]
    assert np.array_equal(np.asarray(pages[0][1]), np.asarray(image))
    assert np.array_equal(np.asarray(pages[1][1]), np.asarray(second))
    assert all(p[1].mode == "L" and (p[2], p[3]) == (PAGE_W, PAGE_H) and p[4] == 200 for p in pages)
    # The page count comes from the file's directory, before (and whether or not) later frames are read.
    first = next(iter_image_pages(buf.getvalue(), max_pixels=MAX_PIXELS))
    assert first.frames == 2


def test_png_and_jpeg_pages() -> None:
    rgba = Image.new("RGBA", (400, 300), (0, 0, 0, 0))  # transparent: must come out white paper
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")  # no pHYs chunk: the default 200 dpi
    [(_, png, w, h, dpi)] = list(_pages(buf.getvalue()))
    assert png.mode == "L" and np.asarray(png).min() == 255
    assert (w, h, dpi) == (400 * 72 / 200, 300 * 72 / 200, 200)

    buf = io.BytesIO()
    Image.new("RGB", (600, 300), (250, 250, 250)).save(buf, format="JPEG", dpi=(300, 300))
    assert sniff_kind(buf.getvalue()) == "jpeg"
    [(_, jpeg, w, h, dpi)] = list(_pages(buf.getvalue()))
    assert jpeg.mode == "L" and (w, h, dpi) == (144.0, 72.0, 300)


def test_fax_resolution_is_resampled_to_square_pixels() -> None:
    buf = io.BytesIO()
    Image.new("1", (1728, 1100), 1).save(buf, format="TIFF", compression="group4", dpi=(204, 98))
    [(_, fax, w, h, dpi)] = list(_pages(buf.getvalue()))
    assert dpi == 204 and fax.size == (1728, round(1100 * 204 / 98))
    assert (w, h) == pytest.approx((1728 * 72 / 204, 1100 * 72 / 98), abs=0.5)


def test_decompression_bombs_are_refused_before_decoding() -> None:
    bomb = _png_with_header(100_000, 100_000)
    with pytest.raises(PolicyRayError) as info:
        list(iter_image_pages(bomb, max_pixels=MAX_PIXELS))
    assert info.value.category == FailureCategory.IMAGE_TOO_LARGE
    # Under Pillow's own limit but over ours: refused from the header, the (bogus) data never decoded.
    with pytest.raises(PolicyRayError) as info:
        list(iter_image_pages(_png_with_header(7000, 7000), max_pixels=MAX_PIXELS))
    assert info.value.category == FailureCategory.IMAGE_TOO_LARGE


def test_oversize_later_frame_is_refused_after_earlier_frames() -> None:
    buf = io.BytesIO()
    small, big = Image.new("L", (100, 100), 255), Image.new("L", (3000, 3000), 255)
    small.save(buf, format="TIFF", save_all=True, append_images=[big], compression="tiff_lzw")
    pages = iter_image_pages(buf.getvalue(), max_pixels=5_000_000)
    assert next(pages).index == 0
    with pytest.raises(PolicyRayError) as info:
        next(pages)
    assert info.value.category == FailureCategory.IMAGE_TOO_LARGE and info.value.page == 2


def test_unreadable_image_data() -> None:
    for data in (b"II*\x00garbage garbage garbage", b"definitely not an image", b"%PDF-1.7\n"):
        with pytest.raises(PolicyRayError) as info:
            list(iter_image_pages(data, max_pixels=MAX_PIXELS))
        assert info.value.category == FailureCategory.MALFORMED_PDF
        assert "unreadable" in info.value.message


# --- tesseract ----------------------------------------------------------------------------------


def test_tesseract_reads_policy_number_where_the_pdf_put_it(
        tesseract: TesseractEngine, page200: tuple[Image.Image, float]) -> None:
    image, scale = page200
    result = tesseract.recognize(image, scale=scale)
    assert (result.angle, result.skew_deg) == (0, 0.0)
    assert_policy_number_at_home(result)
    assert [w.text for w in result.words][result.words.index(find(result.words, "Quill")):][:4] == [
        "Quill", "Ladder", "Bakery", "LLC"]
    assert 0.8 < result.mean_conf <= 1.0


@pytest.mark.parametrize("turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270], ids=["ccw", "cw"])
def test_tesseract_turns_a_sideways_page_upright(
        tesseract: TesseractEngine, page200: tuple[Image.Image, float], turn: Image.Transpose) -> None:
    image, scale = page200
    sideways = image.transpose(turn)
    assert sideways.size == (2200, 1700)
    result = tesseract.recognize(sideways, scale=scale)
    assert result.angle == (90 if turn == Image.Transpose.ROTATE_90 else 270)
    assert_policy_number_at_home(result)


def test_tesseract_without_osd_data_finds_orientation_by_trial_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page200: tuple[Image.Image, float]) -> None:
    # A real tessdata folder holding English only, as where osd.traineddata was not installed.
    tessdata = Path("/usr/share/tesseract-ocr/5/tessdata")
    if not (tessdata / "eng.traineddata").exists():
        pytest.skip("Debian tessdata layout not found")
    (tmp_path / "eng.traineddata").symlink_to(tessdata / "eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    engine = TesseractEngine(timeout_s=60)
    assert not engine.has_osd
    image, scale = page200
    result = engine.recognize(image.transpose(Image.Transpose.ROTATE_270), scale=scale)
    assert result.angle == 270
    assert_policy_number_at_home(result)


def test_tesseract_blank_page(tesseract: TesseractEngine) -> None:
    result = tesseract.recognize(Image.new("L", (1700, 2200), 255), scale=200 / 72)
    assert (result.words, result.mean_conf, result.angle, result.skew_deg) == ((), 0.0, 0, 0.0)
    assert (result.width, result.height) == pytest.approx((PAGE_W, PAGE_H))


def test_tesseract_corrects_a_small_skew(tesseract: TesseractEngine, page200: tuple[Image.Image, float]) -> None:
    image, scale = page200
    skewed = image.rotate(1.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    assert estimate_skew(np.asarray(skewed)) == pytest.approx(-1.5, abs=0.25)
    result = tesseract.recognize(skewed, scale=scale)
    assert result.skew_deg == pytest.approx(-1.5, abs=0.25)
    assert_policy_number_at_home(result, tolerance=4.0)


def test_tesseract_timeout_is_ocr_timeout(page200: tuple[Image.Image, float]) -> None:
    image, scale = page200
    with pytest.raises(PolicyRayError) as info:
        TesseractEngine(timeout_s=0.01).recognize(image, scale=scale)
    assert info.value.category == FailureCategory.OCR_TIMEOUT
    # And through pytesseract's own subprocess timeout (the process is killed, not waited for).
    started = time.perf_counter()
    with pytest.raises(PolicyRayError) as info:
        TesseractEngine(timeout_s=0.3, deskew=False).recognize(image, scale=scale)
    assert info.value.category == FailureCategory.OCR_TIMEOUT and info.value.retryable
    assert time.perf_counter() - started < 2.5


def test_missing_tesseract_binary_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(PolicyRayError) as info:
        TesseractEngine(timeout_s=5)
    assert info.value.category == FailureCategory.INTERNAL_ERROR
    assert "apt-get install tesseract-ocr" in info.value.message


# --- RapidOCR -----------------------------------------------------------------------------------


def test_rapidocr_runs_its_shipped_model_on_cpu(monkeypatch: pytest.MonkeyPatch,
                                                 page200: tuple[Image.Image, float]) -> None:
    import socket

    import rapidocr_onnxruntime

    from policy_ray.adapters.ocr_rapid import RapidOcrEngine

    models = sorted(p.name for p in (Path(rapidocr_onnxruntime.__file__).parent / "models").glob("*.onnx"))
    assert len(models) == 3, models  # detection, classification, recognition: inside the wheel

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("RapidOCR tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    # CPU onnxruntime here: asking for CUDA must fall back cleanly. Two threads only to keep the test short.
    engine = RapidOcrEngine(timeout_s=60, use_cuda=True, threads=2)
    assert engine.providers[0] == "CPUExecutionProvider" and not engine.on_cuda

    image, scale = page200
    top = image.crop((0, 0, image.width, 700))  # the header block: the model costs ~0.3 s a line on CPU
    result = engine.recognize(top, scale=scale)
    assert result.engine == "rapidocr" and result.angle == 0
    texts = [w.text for w in result.words]
    number = find(result.words, POLICY_NUMBER)
    start = texts.index("Named")
    assert texts[start:start + 6] == ["Named", "Insured:", "Quill", "Ladder", "Bakery", "LLC"]
    x0, x1, baseline = expected_policy_box()
    # Word boxes are shares of the line box (grown by the unclip ratio): within a character or two.
    assert abs(number.x0 - x0) < 12 and abs(number.x1 - x1) < 12
    assert number.top < baseline - 0.718 * FONT_SIZE and number.bottom > baseline
    assert all(0.0 <= w.conf <= 1.0 for w in result.words) and result.mean_conf > 0.8


def test_rapidocr_page_that_overruns_its_timeout_is_an_ocr_timeout(page200: tuple[Image.Image, float]) -> None:
    from policy_ray.adapters.ocr_rapid import RapidOcrEngine

    # The real model on a whole 200 dpi page takes seconds on CPU: a 50 ms budget cannot be met.
    engine = RapidOcrEngine(timeout_s=0.05, threads=1)
    image, scale = page200
    started = time.monotonic()
    with pytest.raises(PolicyRayError) as info:
        engine.recognize(image, scale=scale)
    assert info.value.category == FailureCategory.OCR_TIMEOUT
    assert time.monotonic() - started < 5  # the caller got its answer at the deadline, not at the end
