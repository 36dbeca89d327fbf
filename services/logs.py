"""Logging, set up once at start: readable lines by default, one JSON object per line with
CHAT_LOG_FORMAT=json (for a log collector), every line naming the instance that wrote it.

Events pass their structured fields as `extra=` (log.info("request", extra={"status": 200, ...})):
the JSON formatter writes them as keys, the text formatter appends them as key=value.
"""

import atexit
import copy
import json
import logging
import queue
import sys
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    def __init__(self, instance: str) -> None:
        super().__init__()
        self.instance = instance

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "instance": self.instance,
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self, instance: str) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.instance = instance

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        return f"{text} {fields}" if fields else text


class _Enqueue(QueueHandler):
    """Hands records to the writer thread as they are (in one process nothing needs pickling), so
    the formatters still see their fields and exceptions."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.msg, record.args = record.getMessage(), None
        return record


_writer: QueueListener | None = None


def _stop_writer() -> None:
    """Write what is still queued and end the writer thread."""
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None


atexit.register(_stop_writer)  # NiceGUI runs atexit functions before it exits, too


def configure(*, log_format: str, instance: str, level: int = logging.INFO) -> None:
    """Send every logger's records (uvicorn's too, which then must not configure its own) to
    stderr in the chosen format. Calling it again replaces the earlier set-up.

    A thread writes the lines: the event loop only queues a record, so a slow terminal or log
    collector on stderr never holds up every connected browser."""
    global _writer
    _stop_writer()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(instance) if log_format == "json" else TextFormatter(instance))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _writer = QueueListener(records, handler)
    _writer.start()
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(_Enqueue(records))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # their records reach the root handler
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
