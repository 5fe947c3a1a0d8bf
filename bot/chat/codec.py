"""JSON encoding of the neutral model, so effects can wait in the outbox table across restarts."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from bot.chat import model

# Every dataclass of the neutral model, by name. Names are stored in the database: renaming a class
# here needs a data migration of pending outbox rows.
_TYPES: dict[str, type] = {
    name: obj
    for name, obj in vars(model).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == model.__name__
}


# A file's bytes (a PDF) travel through the outbox's JSON as base64 under this key.
_BYTES = "_b64"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        out["_t"] = type(value).__name__
        return out
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        if "_t" in value:
            cls = _TYPES[value["_t"]]
            fields = {k: _decode(v) for k, v in value.items() if k != "_t"}
            if cls is model.File and "content" in fields:
                # Stored before files carried bytes (text only): still delivered after an upgrade.
                fields["data"] = str(fields.pop("content")).encode("utf-8")
            return cls(**fields)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        # The model uses tuples for every sequence so that replies stay hashable and immutable.
        return tuple(_decode(v) for v in value)
    return value


def dumps(obj: Any) -> str:
    return json.dumps(_encode(obj), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return _decode(json.loads(text))
