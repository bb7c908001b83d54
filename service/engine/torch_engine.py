"""``TorchEngine``: the real Engine — the text encoder and the trained scene generator and critic,
batch-invariant on CPU — and whether its critic runs in bfloat16.

``generate`` makes *scenes* (models/scene: a ground gradient and 16 layer slots, a float32
array (ROWS, P) per item), which composition renders at each creative's own size; ``score``
renders a scene at the critic's 64x64 (skia) and scores that.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from models.invariance import make_batch_invariant, pad_single as _pad_single
from models.registry import Bundle, CheckpointError, load_checkpoint
from models.scene.raster_skia import thumbnail
from models.text_encoder import TextEncoder, resolve_device
from service.config import Settings
from models.scene.palette import PALETTE_DIM, apply_palettes
from service.engine.protocol import Embedding, GenerateItem, Score, Visual

log = logging.getLogger("adloom.engine")

_NO_PALETTE = np.zeros(PALETTE_DIM, np.float32)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16): there oneDNN's bf16
    convolutions are ~2.5x faster than float32; elsewhere they are emulated and slower."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def use_bf16(setting: str, device: torch.device) -> bool:
    """Whether a model runs in bfloat16 on this device by its setting ("auto", "on", "off"): on
    CPU only (CUDA has its own fp16 path); "auto" where the CPU computes bf16 natively."""
    if device.type != "cpu" or setting == "off":
        return False
    return setting == "on" or cpu_has_native_bf16()


def _conv_weights(module: torch.nn.Module, layout: torch.memory_format) -> None:
    """Every convolution weight of ``module`` stored in ``layout``, in place (CHANNELS_LAST_NOTE)."""
    for m in module.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.weight.data = m.weight.data.contiguous(memory_format=layout)


def critic_bf16(setting: str, device: torch.device) -> bool:
    """Whether the score stage runs the critic under bfloat16 autocast (CPU only)."""
    return use_bf16(setting, device)


@dataclass
class TorchEngine:
    """The loaded text encoder and checkpoint, shared by every pipeline built on them."""

    encoder: TextEncoder
    bundle: Bundle
    device: torch.device
    # The critic's convolutions are most of the score stage (2.9 ms an item on one core in float32,
    # 1.2 ms in bf16 on AMX); its scores only rank, and differ from float32 by < 0.01.
    score_bf16: bool = False
    # torch intra-op threads for this engine's batches. Pinned at every batch, not only at load:
    # torch's setting is process-wide, and on some CPUs (an AMX Xeon here) a GEMM at 1 and at 2
    # threads rounds differently, so another engine or library changing it would change the bytes.
    threads: int = 0

    @classmethod
    def load(cls, settings: Settings) -> "TorchEngine":
        """Load encoder + checkpoint on ADLOOM_DEVICE (fp16 on CUDA); refuse a mismatched pair."""
        torch.set_num_threads(settings.threads)
        # Lazy on purpose: transformers takes seconds to import, and importing service.engine (the
        # protocol, EngineWrapper around a fake in tests) must not pay for it.
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a progress bar is not a log line
        device = resolve_device(settings.device)
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        started = time.perf_counter()
        encoder = TextEncoder(settings.text_encoder, device, bf16=use_bf16(settings.encoder_bf16, device))
        bundle = load_checkpoint(settings.checkpoint, device, dtype)
        trained_with = bundle.manifest.get("text_encoder")
        if trained_with and trained_with != encoder.id:
            raise CheckpointError(
                f"checkpoint {bundle.id} was trained with text encoder {trained_with}, but "
                f"ADLOOM_TEXT_ENCODER loads {encoder.id}: their embedding spaces differ")
        if bundle.generator.config.text_dim != encoder.dim:
            raise CheckpointError(f"checkpoint expects {bundle.generator.config.text_dim}-d text "
                                  f"embeddings; the encoder gives {encoder.dim}-d")
        if device.type == "cpu":
            # each item computed alone (as models.invariance.make_itemwise), layer by layer
            bundle.generator.itemwise = True
            make_batch_invariant(bundle.critic)
        log.info("models loaded", extra={"event": "models_loaded", "text_encoder": encoder.id,
                                         "generator": bundle.id, "device": str(device),
                                         "encoder_bf16": encoder.bf16,
                                         "threads": torch.get_num_threads(),
                                         "load_s": round(time.perf_counter() - started, 2)})
        bf16 = critic_bf16(settings.critic_bf16, device)
        if bf16:
            log.info("critic in bfloat16", extra={"event": "critic_bf16"})
        engine = cls(encoder, bundle, device, bf16, settings.threads)
        if device.type == "cpu":
            engine.critic_channels_last()
        return engine

    @property
    def ids(self) -> dict[str, str]:
        device = f"{self.device}+bf16-critic" if self.score_bf16 else str(self.device)
        # text_encoder: the weights and, when not float32, the precision ("...+bf16"): the cache's
        # key, so replicas computing embeddings differently never share them
        return {"text_encoder": self.encoder.embedding_id, "generator": self.bundle.id, "device": device}

    @property
    def text_dim(self) -> int:
        return self.encoder.dim

    # The batch functions below run in a worker thread, one batch at a time per stage.

    def _pin_threads(self) -> None:
        if self.threads and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    def encode(self, texts: list[str]) -> list[Embedding]:
        """list of texts -> unit float32 vectors (D,)."""
        self._pin_threads()
        return list(self.encoder.encode(list(texts)).numpy())

    def generate(self, items: list[GenerateItem]) -> list[Visual]:
        """(c (D,), seed, named palette or None) items -> scenes, float32 (ROWS, P), each generated
        for its palette and then put on it (one correction of its parameters)."""
        self._pin_threads()
        n = len(items)
        if not self.bundle.generator.itemwise:  # itemwise (CPU), a lone item is computed as in a batch: no pad
            items = _pad_single(items)
        c = torch.from_numpy(np.stack([ci for ci, _, _ in items]))  # (B, D)
        # no colour named in the whole batch: no palette input (the adapter is gated off for them)
        palette = (torch.from_numpy(np.stack([p.vector if p is not None else _NO_PALETTE for _, _, p in items]))
                   if any(p is not None for _, _, p in items) else None)  # (B, PALETTE_DIM)
        with torch.inference_mode():
            scenes = self.bundle.generator.generate(c, [s for _, s, _ in items], palette)  # (B, ROWS, P)
        out = apply_palettes(list(scenes[:n]), [p for _, _, p in items[:n]])
        for scene in out:  # once here: the score stage and the compose workers (shipped) reuse it
            thumbnail(scene, self.bundle.critic.config.img_size)
        return out

    def score(self, items: list[tuple[Visual, Embedding]]) -> list[Score]:
        """(scene (ROWS, P), c (D,)) pairs -> (realism 0..1, alignment cosine): the critic sees
        each scene rendered at its own size (64x64, skia)."""
        n = len(items)
        items = _pad_single(items)
        size = self.bundle.critic.config.img_size
        images = torch.from_numpy(np.stack([thumbnail(sc, size) for sc, _ in items]))  # (B, S, S, 3)
        c = torch.from_numpy(np.stack([ci for _, ci in items]))  # (B, D)
        realism, cosine = self._critic(images, c)  # (B,), (B,)
        return [(float(r), float(a)) for r, a in zip(realism[:n], cosine[:n])]

    def _critic(self, images: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The critic on uint8 (B, S, S, 3) images and (B, D) embeddings, as the score stage runs
        it (this engine's threads, bf16 autocast where chosen) -> (realism, cosine)."""
        self._pin_threads()
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=self.score_bf16):
            return self.bundle.critic.score(images, c)

    # CHANNELS_LAST_NOTE. The critic's input is a permuted (B, H, W, 3) array, so its activations
    # are channels-last, and each convolution converted its (contiguous) weight to channels-last
    # on every batch: on a 2-core AMD EPYC without AVX-512 (float32 critic), 1.3 of 11.5 ms for a
    # lone item's padded pair and 3.7 of 40 ms for 8 items. Converting the weights once at load is
    # the same convolution with the same inputs, and gave the same scores bit for bit there;
    # ``critic_channels_last`` checks that on this machine (alone and in a batch, under the
    # score stage's autocast and threads) and keeps the contiguous weights where it does not hold,
    # so an item's scores never depend on this choice.
    def critic_channels_last(self) -> bool:
        """Store the critic's convolution weights channels-last if its scores stay bit for bit the
        same on probe batches (CHANNELS_LAST_NOTE); True when they are."""
        critic = self.bundle.critic
        size, dim = critic.config.img_size, critic.config.text_dim
        rng = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (5, size, size, 3), dtype=torch.uint8, generator=rng)
        c = torch.nn.functional.normalize(torch.randn(5, dim, generator=rng), dim=1)

        def scores() -> list[torch.Tensor]:  # a lone item's padded pair, and a batch
            return [t for n in (2, 5) for t in self._critic(images[:n], c[:n])]

        before = scores()
        _conv_weights(critic, torch.channels_last)
        if all(torch.equal(a, b) for a, b in zip(before, scores())):
            return True
        _conv_weights(critic, torch.contiguous_format)
        log.warning("channels-last critic weights change the scores here; keeping contiguous weights",
                    extra={"event": "critic_channels_last_off"})
        return False

    def warm_up(self, buckets: list[int]) -> None:
        """Run every stage once per batch-size bucket, so no request pays for a first shape."""
        c = np.zeros(self.text_dim, np.float32)
        c[0] = 1.0
        for n in buckets:
            self.encode(["warm-up"] * n)
            visuals = self.generate([(c, i, None) for i in range(n)])
            self.score([(v, c) for v in visuals])
        if self.device.type == "cuda":
            torch.cuda.synchronize()
