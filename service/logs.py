"""Structured logs: one JSON object per line, extra fields carried through from ``extra=``.

Request log lines carry ids, counts and timings only: product texts, interests and images are
never passed to a logger (audience interests are personal data).
"""
from __future__ import annotations

import json
import logging
import sys
import time

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName",
                                                                        "color_message"}  # uvicorn's ANSI copy


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
               "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        for k, v in vars(record).items():
            if k not in _STANDARD and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, separators=(",", ":"))


class _HandlerMark(logging.StreamHandler):
    """Our handler on the root logger, so setup_logging can be called again without duplicating."""


def setup_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Route every logger (ours, uvicorn's) through one stderr handler; idempotent."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, _HandlerMark):
            root.removeHandler(h)
    handler = _HandlerMark(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # Our middleware writes one line per request; uvicorn's access log would be a second.
    logging.getLogger("uvicorn.access").disabled = True
