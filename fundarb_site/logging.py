"""Log formatting and the last line of defence against secrets in logs.

Code never logs a secret on purpose (keys are masked, signatures are never formatted); the filter below catches
what slips through an exception message or a third-party library's debug output.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_SECRET_PATTERNS = [
    # query-string or JSON style key=value / "key": "value" pairs whose names mark them as secret
    re.compile(
        r"(?i)(?P<name>signature|sign|api[_-]?secret|secret|api[_-]?key|apikey|x-bapi-api-key|x-bapi-sign|"
        r"x-bx-apikey|password|token)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s&\"',}]+)"
    ),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group('name')}{m.group('sep')}[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers expect."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("execution_id", "subscription_id", "venue", "step"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)
