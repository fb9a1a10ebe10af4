"""Per-request results of one system, kept in a JSONL file so that an interrupted evaluation resumes:
each line is {"key", "value", "cost"}, where the key is a hash of the system's identity (its model
versions, prompts and chat settings) and the request's arguments. A line is appended and flushed as
soon as its request is answered; a torn last line (the process was killed mid-write) is ignored."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def request_key(identity: dict, method: str, args: list) -> str:
    blob = json.dumps([identity, method, args], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RequestCache:
    def __init__(self, path: Path, fresh: bool = False):
        self.path = path
        self.entries: dict[str, dict] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh and path.exists():
            path.unlink()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and "key" in entry:
                    self.entries[entry["key"]] = entry
        self.hits = 0
        self._file = open(path, "a", encoding="utf-8")

    def get(self, key: str) -> dict | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.hits += 1
        return entry

    def put(self, key: str, value, cost: dict) -> dict:
        entry = {"key": key, "value": value, "cost": cost}
        self.entries[key] = entry
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()
        return entry

    def close(self) -> None:
        self._file.close()
