"""The command line: `ingest` exit codes (0 the night ran, 2 it could not run, 3 another run holds the batch),
and everything after the night (dlq list|show|replay, reconcile, batch release, audit verify,
jobs/reconcile.py) driven through `policy_ray.cli.main` on small real nights."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deltalake.exceptions import CommitFailedError

from policy_ray.adapters.lake import Lake
from policy_ray.cli import main, night_exit_code
from policy_ray.flows.nightly import BatchBusy


@pytest.mark.usefixtures("ray_session")
def test_a_missing_input_folder_is_a_night_that_could_not_run(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", str(tmp_path / "no-such-night"), "--lake", str(tmp_path / "lake"),
                 "--batch-date", "2026-12-01", "--no-progress", "--no-ocr", "--no-reconcile"])
    assert code == 2
    assert "the night could not run" in capsys.readouterr().err


@pytest.mark.usefixtures("ray_session")
def test_an_unwritable_lake_is_a_night_that_could_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    night = tmp_path / "night"
    night.mkdir()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lake's parent folder should be")
    code = main(["ingest", str(night), "--lake", str(blocker / "lake"), "--batch-date", "2026-12-01",
                 "--no-progress", "--no-ocr", "--no-reconcile"])
    assert code == 2
    assert "the night could not run" in capsys.readouterr().err


def test_exit_codes_by_failure() -> None:
    assert night_exit_code(BatchBusy("batch b is being run by host:1:n")) == 3
    assert night_exit_code(CommitFailedError("concurrent transaction")) == 3
    assert night_exit_code(ConnectionError("cannot list s3://night")) == 2
    assert night_exit_code(FileNotFoundError("input folder not found")) == 2
    assert night_exit_code(ValueError("a defect")) is None  # re-raised with its traceback, exit 1


# ---- after the night: dlq, reconcile, batch release, audit verify, jobs/reconcile.py ----------------------

MOVED = {"Policy Number:": "Contract Reference:", "Named Insured:": "Client of Record:"}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cli_lake(tmp_path_factory: pytest.TempPathFactory, ray_session: None) -> dict[str, Any]:
    """Two small real nights ingested through the CLI: night 1 with a truncated PDF (terminal) and a
    scan (no OCR: retryable), night 2 with Harborline's fields moved (low confidence, carrier read)."""
    from policy_ray.sample import draw, generate_night

    root = tmp_path_factory.mktemp("cli")
    nights = [root / "night1", root / "night2"]
    generate_night(nights[0], 10, 81, include_hostile=True, scanned_share=0.1)
    original = draw.labelled

    def moved(c: Any, x: float, y: float, label: str, value: str, size: float = 9) -> float:
        return original(c, x, y, MOVED.get(label, label), value, size)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(draw, "labelled", moved)
        generate_night(nights[1], 10, 82, include_hostile=False, scanned_share=0.0)
    lake = root / "lake"
    for day, night in enumerate(nights, start=1):
        assert main(["ingest", str(night), "--lake", str(lake), "--batch-date", f"2026-12-0{day}", "--no-progress",
                     "--no-ocr", "--extractors", "2", "--no-reconcile"]) == 0
    batches = sorted(Lake(str(lake)).read("batches").to_pylist(), key=lambda b: b["batch_date"])
    return {"lake": lake, "batches": [b["batch_id"] for b in batches], "nights": nights}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _copy(cli_lake: dict[str, Any], tmp_path: Path) -> str:
    shutil.copytree(cli_lake["lake"], tmp_path / "lake")
    return str(tmp_path / "lake")


def _listed_keys(out: str) -> set[str]:
    """Idempotency keys (as the table shows them: 57 characters and an ellipsis) of a `dlq list`."""
    return {line.split(" | ")[0][:57] for line in out.splitlines()[2:] if " | " in line}


def test_dlq_list_filters(cli_lake: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    lake = str(cli_lake["lake"])
    rows = Lake(lake).read("dead_letters").to_pylist()

    def expected(keep: Callable[[dict[str, Any]], bool]) -> set[str]:
        return {r["idempotency_key"][:57] for r in rows if keep(r)}

    def carrier(r: dict[str, Any]) -> str:
        return ((json.loads(r["partial_fields"] or "{}").get("record") or {}).get("carrier_name") or "").lower()

    b1, b2 = cli_lake["batches"]
    cases: list[tuple[list[str], Callable[[dict[str, Any]], bool]]] = [
        ([], lambda r: True),
        (["--category", "no_text_layer"], lambda r: r["failure_category"] == "no_text_layer"),
        (["--batch", b1], lambda r: r["batch_id"] == b1),
        (["--carrier", "HARBOR"], lambda r: "harbor" in carrier(r)),
        (["--retryable"], lambda r: r["retryable"]),
        (["--no-retryable"], lambda r: not r["retryable"]),
        (["--since", "2026-12-02"], lambda r: r["batch_id"] == b2),
    ]
    for flags, keep in cases:
        code, out, _ = _run(capsys, "dlq", "list", "--lake", lake, *flags)
        want = expected(keep)
        assert code == 0 and want, (flags, out)  # every filter selects something here...
        assert _listed_keys(out) == want, flags
        assert out.rstrip().endswith(f"({len(want)} rows)")
        if flags:
            assert want != expected(lambda r: True), flags  # ...and leaves something out


def test_dlq_show(cli_lake: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    lake = str(cli_lake["lake"])
    row = Lake(lake).read("dead_letters").to_pylist()[0]
    code, out, _ = _run(capsys, "dlq", "show", "--lake", lake, row["idempotency_key"][:12])
    shown = json.loads(out)
    assert code == 0 and shown["idempotency_key"] == row["idempotency_key"]
    assert shown["stack_trace"] == row["stack_trace"] and shown["partial_fields"] == row["partial_fields"]
    assert shown["replay_history"] == []
    code, _, err = _run(capsys, "dlq", "show", "--lake", lake, "0000000000")
    assert code == 1 and "no dead letter matches" in err


def test_dlq_replay(cli_lake: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = _copy(cli_lake, tmp_path)
    terminal = select_rows(lake, retryable=False)
    assert terminal, "night 1 has a truncated PDF"
    key = terminal[0]["idempotency_key"]
    code, out, _ = _run(capsys, "dlq", "replay", "--lake", lake, "--no-ocr", "--extractors", "1", key[:16])
    assert code == 0, out
    assert "1 dead letters re-submitted: 0 resolved, 1 failed again" in out
    assert f"failed again: {key[:16]} {terminal[0]['failure_category']}" in out
    assert "completed (no deviation)" in out  # the replay batch is reconciled too (completeness)
    code, out, _ = _run(capsys, "dlq", "show", "--lake", lake, "--status", "failed_again", key[:16])
    assert code == 0
    assert [h["step"] for h in json.loads(out)["replay_history"]] == ["requeued", "failed_again"]


def select_rows(lake: str, **equal: Any) -> list[dict[str, Any]]:
    return [r for r in Lake(lake).read("dead_letters").to_pylist() if all(r[k] == v for k, v in equal.items())]


def test_reconcile_and_release(cli_lake: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = _copy(cli_lake, tmp_path)
    b1, b2 = cli_lake["batches"]
    code, out, _ = _run(capsys, "reconcile", "--lake", lake, "--batch", b1)
    assert code == 0 and f"batch {b1}: completed" in out

    code, out, err = _run(capsys, "reconcile", "--lake", lake, "--batch", "2026-01-01-nosuchid")
    assert code == 1 and "no batch '2026-01-01-nosuchid'" in err and "Traceback" not in out + err
    assert _run(capsys, "reconcile", "--lake", lake)[0] == 1  # neither --batch nor --all

    # Night 2 says it listed one document more than its ledger holds: a new deviation, exit 1 ...
    Lake(lake).update_columns("batches", [{"batch_id": b2, "listed": 11}], key="batch_id", columns=("listed",),
                              metadata={"batch_id": b2, "event": "test: a document goes missing"})
    code, out, _ = _run(capsys, "reconcile", "--lake", lake, "--batch", b2)
    assert code == 1 and f"batch {b2}: quarantined" in out and "1 of 11 listed documents have no ledger row" in out
    # The deviation is reported once (no second quarantine entry); the edit itself is drift, which the audit
    # trail pins (the batch row no longer matches its batch_completed entry) and every run reports again.
    code, out, _ = _run(capsys, "reconcile", "--lake", lake, "--batch", b2)
    assert code == 1 and "already quarantined" in out and "listed differ from its batch_completed entry" in out
    assert _run(capsys, "reconcile", "--lake", lake, "--all")[0] == 1

    code, out, _ = _run(capsys, "batch", "release", b2, "--lake", lake, "--reason", "reviewed: listing miscounted")
    assert code == 0 and f"batch {b2} released" in out
    code, _, err = _run(capsys, "batch", "release", b2, "--lake", lake, "--reason", "again")
    assert code == 1 and "not quarantined" in err
    code, _, err = _run(capsys, "batch", "release", "nosuch", "--lake", lake, "--reason", "x")
    assert code == 1 and "no batch 'nosuch'" in err
    code, out, _ = _run(capsys, "reconcile", "--lake", lake, "--all")
    assert f"batch {b2}: released" in out and f"batch {b1}: completed" in out
    stages = Lake(lake).read("audit_log", ["stage"], batch_id=b2).column(0).to_pylist()
    assert (stages.count("batch_quarantined"), stages.count("batch_released")) == (1, 1)
    code, out, _ = _run(capsys, "audit", "verify", "--lake", lake)
    assert code == 1 and b2 in out  # a release reviews the figures; it does not make an edited row evidence


def test_audit_verify(cli_lake: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from deltalake import DeltaTable

    b1, _ = cli_lake["batches"]
    code, out, _ = _run(capsys, "audit", "verify", "--lake", str(cli_lake["lake"]), "--batch", b1,
                        "--sources", str(cli_lake["nights"][0]))
    assert code == 0 and out.startswith("audit verify: OK") and " 0 source files" not in out
    head = out.split("head to publish outside the lake: ", 1)[1].split()[0]
    code, out, _ = _run(capsys, "audit", "verify", "--lake", str(cli_lake["lake"]), "--published-head", head)
    assert code == 0, out
    seq, digest = head.split(":")
    code, out, _ = _run(capsys, "audit", "verify", "--lake", str(cli_lake["lake"]), "--published-head",
                        f"{seq}:{digest[::-1]}")
    assert code == 1 and "rewritten" in out
    with pytest.raises(SystemExit) as bad:
        main(["audit", "verify", "--lake", str(cli_lake["lake"]), "--published-head", "12"])
    assert bad.value.code == 2 and "SEQ:HASH" in capsys.readouterr().err
    lake = _copy(cli_lake, tmp_path)
    key = Lake(lake).read("policies", ["idempotency_key"], batch_id=b1).column(0)[0].as_py()
    DeltaTable(f"{lake}/policies").delete(predicate=f"idempotency_key = '{key}'")
    code, out, _ = _run(capsys, "audit", "verify", "--lake", lake)
    assert code == 1 and "FAILED" in out and f"policies row {key[:16]} was deleted" in out
    code, out, _ = _run(capsys, "reconcile", "--lake", lake, "--all")
    assert code == 1 and "drift:" in out
    code, _, err = _run(capsys, "audit", "verify", "--lake", str(tmp_path / "no-lake"))
    assert code == 2 and "cannot be read" in err


def test_jobs_reconcile_runs_as_a_job(cli_lake: dict[str, Any], tmp_path: Path) -> None:
    lake = _copy(cli_lake, tmp_path)
    done = subprocess.run([sys.executable, "jobs/reconcile.py", "--lake", lake, "--all"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(f"batch {b}: completed" in done.stdout for b in cli_lake["batches"])
    done = subprocess.run([sys.executable, "jobs/reconcile.py", "--lake", lake, "--batch", "nosuch"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "no batch 'nosuch'" in done.stderr
