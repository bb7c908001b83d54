"""Where a job's files go (a local folder or an fsspec URL), written whole or not at all, and the
job's ``manifest.jsonl`` assembled from its rows' parts."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import fsspec


class Output:
    """Where a job's files go: a local folder, or any fsspec URL (``s3://bucket/prefix``)."""

    def __init__(self, root: str | Path):
        self.root = str(root)
        self.local = "://" not in self.root
        if not self.local:
            self.fs, self.base = fsspec.core.url_to_fs(self.root)

    def path(self, job: str, name: str = "") -> str:
        return os.path.join(self.root, job, name) if self.local else f"{self.base}/{job}/{name}".rstrip("/")

    def write(self, job: str, name: str, data: bytes) -> None:
        """Write whole or not at all: a reader (or a re-run) never sees half a file."""
        if not self.local:
            self.fs.pipe_file(self.path(job, name), data)  # object stores put whole objects
            return
        final = Path(self.path(job, name))
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, final)

    def read(self, job: str, name: str) -> bytes | None:
        try:
            if self.local:
                return Path(self.path(job, name)).read_bytes()
            return self.fs.cat_file(self.path(job, name))
        except FileNotFoundError:
            return None

    def names(self, job: str, folder: str) -> list[str]:
        """File names in ``job/folder`` (sorted)."""
        if self.local:
            d = Path(self.path(job, folder))
            return sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []
        try:
            return sorted(p.rsplit("/", 1)[-1] for p in self.fs.ls(self.path(job, folder), detail=False))
        except FileNotFoundError:
            return []


def assemble_manifest(output: Output, job: str) -> int:
    """``manifest.jsonl`` from the rows' parts, in row order -> its line count. Also removes the
    temporary files of writes a killed replica cut off (their rows were written again since)."""
    if output.local:
        for stale in Path(output.path(job)).glob("**/.*.tmp"):
            stale.unlink(missing_ok=True)
    parts = [n for n in output.names(job, "rows") if n.endswith(".jsonl")]
    chunks = [output.read(job, f"rows/{n}") or b"" for n in parts]
    data = b"".join(chunks)
    output.write(job, "manifest.jsonl", data)
    return data.count(b"\n")
