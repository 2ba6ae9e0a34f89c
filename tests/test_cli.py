"""`policy-ray ingest` exit codes: 0 the night ran, 2 it could not run, 3 another run holds the batch."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake.exceptions import CommitFailedError

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
