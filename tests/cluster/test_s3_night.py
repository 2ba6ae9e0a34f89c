"""Input and lake on object storage: a real S3 API (moto's standalone server on a loopback port).

The server runs in a subprocess of its own session, so the driver, the shared Ray instance's actors
and deltalake's Rust client all reach it over HTTP exactly as they would reach MinIO or S3. Nothing
here talks to AWS: every client is pointed at the loopback endpoint with dummy credentials.

The unit tests check `policy_ray.adapters.storage` and `DocumentSource` against the server; the last
test runs a whole night from `s3://incoming/...` into `s3://lake/...` on the shared Ray instance, scans
included: the OCR actors read them from S3 too.

moto[server] and boto3 are in requirements.lock (the dev extra): without them these tests fail, they do
not skip, so a broken environment cannot pass as "S3 tested".
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pytest

from policy_ray.adapters import storage
from policy_ray.adapters.source import DocumentSource
from policy_ray.core.identity import sha256_hex

NIGHT = date(2026, 12, 1)
INPUT = "s3://incoming/2026-12-01"
LAKE = "s3://lake/policy-ray"
SERVER_START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto S3 server on 127.0.0.1:<free port>; yields the project's storage options for it."""
    missing = [m for m in ("moto.server", "boto3") if importlib.util.find_spec(m.split(".")[0]) is None
               or importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"{missing} not importable: install requirements.lock into this virtualenv (make install); "
                    "the S3 tests need moto[server] and boto3")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"moto server not up within {SERVER_START_TIMEOUT_S}s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def s3(s3_endpoint: dict[str, str]) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint["AWS_ENDPOINT_URL"],
                        aws_access_key_id=s3_endpoint["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=s3_endpoint["AWS_SECRET_ACCESS_KEY"],
                        region_name=s3_endpoint["AWS_REGION"])


def _bucket(s3: Any, name: str) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)


def _upload(s3: Any, folder: Path, uri: str) -> list[str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    _bucket(s3, bucket)
    keys = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(folder).as_posix()}"
        s3.upload_file(str(path), bucket, key)
        keys.append(f"s3://{bucket}/{key}")
    return keys


# ---- storage options ---------------------------------------------------------------------------------------


def test_options_default_to_the_aws_environment_and_explicit_ones_win() -> None:
    env = {"AWS_ACCESS_KEY_ID": "env-key", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_DEFAULT_REGION": "eu-west-1",
           "HOME": "/root"}
    resolved = storage.resolve_options({"aws_access_key_id": "mine"}, env=env)
    assert resolved == {"AWS_ACCESS_KEY_ID": "mine", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION": "eu-west-1"}
    local = storage.resolve_options({"AWS_ENDPOINT_URL": "http://minio:9000"}, env={})
    assert local == {"AWS_ENDPOINT_URL": "http://minio:9000", "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    assert storage.delta_storage_options("/data/lake", {"X": "1"}) == {"X": "1"}  # local: as given, no env
    assert storage.redacted({"AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "r"}) == {"AWS_SECRET_ACCESS_KEY": "***",
                                                                                   "AWS_REGION": "r"}


def test_unsafe_rename_is_refused() -> None:
    with pytest.raises(storage.StorageConfigError, match="conditional writes"):
        storage.resolve_options({"AWS_S3_ALLOW_UNSAFE_RENAME": "true"}, env={})
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in storage.resolve_options({"AWS_S3_ALLOW_UNSAFE_RENAME": "false"}, env={})


def test_filesystem_for_local_paths(tmp_path: Path) -> None:
    import pyarrow.fs as pafs

    fs, path = storage.filesystem_for(f"file://{tmp_path}")
    assert isinstance(fs, pafs.LocalFileSystem) and path == str(tmp_path.resolve())
    assert storage.filesystem_for(str(tmp_path))[1] == str(tmp_path.resolve())


# ---- the input on S3 ---------------------------------------------------------------------------------------


def test_document_source_lists_reads_and_hashes_s3(s3: Any, s3_endpoint: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    files = {"b.pdf": b"%PDF-1.4 b", "a.PDF": b"%PDF-1.4 a", "sub/c.tif": b"II*\x00c", "notes.txt": b"no",
             ".hidden.pdf": b"no"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    _upload(s3, folder, "s3://incoming/unit-1")
    source = DocumentSource("s3://incoming/unit-1", storage_options=s3_endpoint)
    listed = list(source.list())
    assert [f.uri for f in listed] == ["s3://incoming/unit-1/a.PDF", "s3://incoming/unit-1/b.pdf",
                                       "s3://incoming/unit-1/sub/c.tif"]
    assert [f.size for f in listed] == [len(files["a.PDF"]), len(files["b.pdf"]), len(files["sub/c.tif"])]
    assert source.count() == 3
    for f in listed:
        data = source.read(f.uri)
        assert data == files[f.uri.removeprefix("s3://incoming/unit-1/")]
        assert source.sha256(f.uri) == sha256_hex(data)
    # What an extractor actor does (stages/results.py): a source rooted at the document's folder.
    nested = DocumentSource("s3://incoming/unit-1/sub", storage_options=s3_endpoint)
    assert nested.read("s3://incoming/unit-1/sub/c.tif") == files["sub/c.tif"]


def test_document_source_takes_the_aws_environment(s3: Any, s3_endpoint: dict[str, str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4 x")
    _upload(s3, tmp_path, "s3://incoming/unit-env")
    for key, value in s3_endpoint.items():
        monkeypatch.setenv(key, value)
    source = DocumentSource("s3://incoming/unit-env")  # no options: AWS_* from the environment
    assert [f.uri for f in source.list()] == ["s3://incoming/unit-env/x.pdf"]


def test_unreadable_and_missing_inputs(s3: Any, s3_endpoint: dict[str, str]) -> None:
    from policy_ray.errors import PolicyRayError

    _bucket(s3, "incoming")
    with pytest.raises(FileNotFoundError, match="s3://incoming/no-such-night"):
        list(DocumentSource("s3://incoming/no-such-night", storage_options=s3_endpoint).list())
    source = DocumentSource("s3://incoming", storage_options=s3_endpoint)
    with pytest.raises(PolicyRayError) as caught:
        source.sha256("s3://incoming/gone.pdf")
    assert caught.value.category.value == "source_unreadable"


# ---- the lake on S3 ----------------------------------------------------------------------------------------


def test_delta_commits_on_s3_use_conditional_writes(s3: Any, s3_endpoint: dict[str, str]) -> None:
    """Two writers holding the same snapshot: the second commit's put-if-absent fails, delta-rs rebases it
    onto the next version, and nothing is overwritten (with unsafe renames one append would be lost)."""
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    _bucket(s3, "lake")
    uri = "s3://lake/unit-conditional"
    options = storage.delta_storage_options(uri, s3_endpoint)
    write_deltalake(uri, pa.table({"n": [0]}), storage_options=options)
    first, second = DeltaTable(uri, storage_options=options), DeltaTable(uri, storage_options=options)
    write_deltalake(first, pa.table({"n": [1]}), mode="append")
    write_deltalake(second, pa.table({"n": [2]}), mode="append")
    table = DeltaTable(uri, storage_options=options)
    assert table.version() == 2
    fs, root = storage.filesystem_for(uri, options)  # pyarrow's S3 client, as Lake.dataset reads
    rows = table.to_pyarrow_dataset(filesystem=pafs.SubTreeFileSystem(root, fs)).to_table()
    assert sorted(rows.column("n").to_pylist()) == [0, 1, 2]
    # The Delta log is readable through the same options (what Lake.log_sha256 hashes for the audit trail).
    log = storage.open_bytes(f"{uri}/_delta_log/{2:020d}.json", s3_endpoint)
    assert b'"commitInfo"' in log


# ---- a night on S3 -----------------------------------------------------------------------------------------


def _rows(lake: Any, name: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    return list(lake.read(name, columns).to_pylist())


@pytest.mark.usefixtures("ray_session")
def test_a_night_from_s3_into_an_s3_lake(s3: Any, s3_endpoint: dict[str, str], tmp_path: Path,
                                         acord_form: Path | None) -> None:
    from policy_ray.adapters.lake import Lake
    from policy_ray.config import Settings
    from policy_ray.flows.nightly import NightRequest, run_night
    from policy_ray.flows.verify import verify
    from policy_ray.sample import generate_night

    folder = tmp_path / "night"
    truth = generate_night(folder, 10, 21, acord_form=acord_form, include_hostile=True, scanned_share=0.15)
    scanned = {f"{INPUT}/{t['file']}" for t in map(json.loads, truth.read_text().splitlines()) if t["scanned"]}
    assert scanned, "the night needs a scanned document for the OCR pool"
    truth.unlink()
    inputs = _upload(s3, folder, INPUT)
    _bucket(s3, "lake")
    settings = Settings(extractors=1, ocr=True, ocr_workers=1, ocr_engine="tesseract", commit_every_docs=5,
                        storage_options=dict(s3_endpoint), ocr_breaker_name=f"s3-breaker-{os.getpid()}")
    request = NightRequest(INPUT, LAKE, NIGHT, progress=False)

    first = run_night(request, settings)
    lake = Lake(LAKE, storage_options=s3_endpoint)
    ledger = _rows(lake, "documents", ["source_uri", "disposition", "idempotency_key"])
    assert Counter(r["source_uri"] for r in ledger) == Counter(inputs), "one ledger row per input object"
    policies = _rows(lake, "policies", ["idempotency_key", "source_uri", "extraction_path"])
    assert policies, "nothing was committed from S3"
    committed = {r["idempotency_key"] for r in ledger if r["disposition"] == "committed"}
    assert committed == {r["idempotency_key"] for r in policies}
    assert first.listed == len(inputs) and first.processed > 0
    # The scans went to the OCR pool, whose actor read them from S3 and committed what it read.
    assert first.sent_to_ocr == len(scanned), (first.sent_to_ocr, sorted(scanned))
    read_by_ocr = {r["source_uri"] for r in policies if r["extraction_path"] == "ocr"}
    assert read_by_ocr and read_by_ocr <= scanned, (read_by_ocr, scanned)

    counts = {name: len(_rows(lake, name, ["batch_id"])) for name in ("documents", "policies", "dead_letters")}
    again = run_night(request, settings)
    assert again.processed == 0 and again.already_done == len(inputs)
    assert {name: len(_rows(lake, name, ["batch_id"])) for name in counts} == counts, "a re-run added rows"

    report = verify(Lake(LAKE, storage_options=s3_endpoint))
    assert report.ok, report.render()
    assert report.versions > 0  # Delta log files were hashed through the S3 options
