"""Folder dataset: a directory of images plus captions.jsonl ({"file": ..., "text": ...}).

This is how a user trains adloom on their own past creatives: `adloom train --data DIR`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def load_folder(root: str | Path, size: int = 64) -> tuple[np.ndarray, list[str]]:
    """-> (images uint8 (N, size, size, 3), captions). Centre-crops to square, then resizes."""
    root = Path(root)
    index = root / "captions.jsonl"
    if not index.exists():
        raise FileNotFoundError(f"{root} has no captions.jsonl (one JSON object per line: "
                                '{"file": "img.png", "text": "caption"})')
    images, captions = [], []
    for n, line in enumerate(index.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            path, text = root / row["file"], str(row["text"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ValueError(f"captions.jsonl line {n}: needs an object with 'file' and 'text' ({e})") from e
        if not path.exists():
            raise FileNotFoundError(f"captions.jsonl line {n}: {path} does not exist")
        with Image.open(path) as f:
            im = ImageOps.exif_transpose(f).convert("RGB")
            im = ImageOps.fit(im, (size, size), Image.Resampling.LANCZOS)
            images.append(np.asarray(im, dtype=np.uint8))
        captions.append(text)
    if not images:
        raise ValueError(f"{index} lists no images")
    return np.stack(images), captions
