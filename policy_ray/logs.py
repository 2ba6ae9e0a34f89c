"""Structured logs: loguru JSON lines with correlation ids (batch, document hash prefix, stage, actor).

Each process (driver, every actor) calls `configure` once; loguru sinks do not cross process
boundaries, so actors set up their own in `__init__`. Never log document text or personal data: log
hashes, categories and counts.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from loguru import logger

CORRELATION_KEYS = ("batch_id", "doc", "stage", "actor_id", "attempt")
# Set while a progress bar is drawn on the terminal: log lines are written above it (tqdm.write)
# instead of through it.
_line_writer: Callable[[str], None] | None = None


def write_lines_with(writer: Callable[[str], None] | None) -> None:
    """Send this process's log lines to `writer` (one line, no newline) until called with None."""
    global _line_writer
    _line_writer = writer


def _json_sink(stream: TextIO, component: str) -> Any:
    host = socket.gethostname()

    def sink(message: Any) -> None:
        record = message.record
        entry: dict[str, Any] = {
            "ts": record["time"].astimezone(UTC).isoformat(timespec="milliseconds"),
            "level": record["level"].name,
            "component": component,
            "msg": record["message"],
            "host": host,
            "pid": record["process"].id,
        }
        entry.update({k: v for k, v in record["extra"].items() if v is not None})
        if record["exception"] is not None:
            entry["exception"] = f"{record['exception'].type.__name__}: {record['exception'].value}"
        line = json.dumps(entry, default=str)
        if _line_writer is not None:
            _line_writer(line)
            return
        stream.write(line + "\n")
        stream.flush()

    return sink


def configure(component: str, *, level: str | None = None, json_lines: bool = True,
              stream: TextIO | None = None) -> None:
    logger.remove()
    level = level or os.environ.get("POLICY_RAY_LOG_LEVEL", "INFO")
    target = stream or sys.stderr
    if json_lines:
        logger.add(_json_sink(target, component), level=level, enqueue=False)
    else:
        logger.add(target, level=level, format="{time:HH:mm:ss} {level:<7} {message} {extra}")


def now_utc() -> datetime:
    return datetime.now(UTC)


__all__ = ["CORRELATION_KEYS", "configure", "logger", "now_utc", "write_lines_with"]
