"""CPU batch invariance: an item's result must not depend on what else shares its batch.

"Same request + seed -> byte-identical PNG" must hold whatever else shares the batch. On CPU two
things break that, both measured on this model (1 in ~10 visuals differed by 1/255 somewhere):
a Linear's GEMM rounds differently for different batch sizes, and oneDNN picks another conv
algorithm for a batch of one. So on CPU every Linear runs row by row (they are a tiny part of
the cost; the convolutions dominate), and a single item is padded to a batch of two for the
critic's convolutions (the generator, computed item by item below, needs no pad: a lone scene
costs half as much, 3.3 -> 2.0 ms, the same bytes).
Element-wise kernels break it too: sigmoid, GELU and LayerNorm vectorise over the whole tensor,
so where an item's values fall in the SIMD lanes (or in the scalar tail) depends on the batch,
and so does the last bit (the scene generator differed by 1 ulp in ~1 of 8 items in batches of
3 or more, enough to move an edge pixel): the generator, an MLP that costs little, runs item by
item (``make_itemwise``).
On CUDA, cuDNN may still choose shape-dependent algorithms: there, identical results are
promised for identical batches only. The service (service/pipeline.py) and the evaluation
(models/evaluate.py) both run the models this way on CPU.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def _rowwise_linear(module: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if x.ndim != 2 or x.shape[0] == 1:
        return F.linear(x, module.weight, module.bias)
    return torch.cat([F.linear(x[i:i + 1].clone(), module.weight, module.bias) for i in range(x.shape[0])])


def make_batch_invariant(model: torch.nn.Module) -> None:
    """Make every nn.Linear of ``model`` compute each row on its own (see above)."""
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            m.forward = functools.partial(_rowwise_linear, m)  # type: ignore[method-assign]  # on purpose


def make_itemwise(model: torch.nn.Module) -> None:
    """Make ``model(*tensors)`` run one item (row of axis 0) at a time, so an item's result is
    exactly what it would be alone, whatever its batch-mates (see above). For small models only."""
    inner = model.forward

    def forward(*args: torch.Tensor | None) -> torch.Tensor:
        first = args[0]
        assert first is not None
        n = first.shape[0]
        if n <= 1:
            return inner(*args)
        # an optional input left out (None) stays None for every item
        return torch.cat([inner(*(a[i:i + 1] if a is not None else None for a in args)) for i in range(n)])

    model.forward = forward


@dataclass
class RowBlocks:
    """The GEMM shapes a row-blocked model uses: blocks of exactly ``size`` rows, except that a
    call with at most ``s`` rows, for the smallest ``s`` of ``small``, is one block of ``s`` rows.
    ``small`` stays empty unless the caller has checked that a row's result is the same in every
    one of these shapes (the text encoder does when it loads): otherwise a lone text would round
    differently from the same text in a batch."""

    size: int
    small: tuple[int, ...] = ()

    def block(self, rows: int) -> int:
        return next((s for s in self.small if rows <= s), self.size)


def _blocked_linear(module: torch.nn.Linear, blocks: RowBlocks, x: torch.Tensor) -> torch.Tensor:
    return _blocked_gemm(blocks, module.weight.t(), module.bias, x)


def _blocked_gemm(blocks: RowBlocks, w: torch.Tensor, bias: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """``x @ w + bias`` over blocks of exactly ``blocks.block(rows)`` rows, in ``w``'s dtype; the
    result in ``x``'s dtype. ``w`` is (in, out)."""
    rows = x.reshape(-1, x.shape[-1]).to(w.dtype)
    n = rows.shape[0]
    block = blocks.block(n)
    pad = (-n) % block
    if pad:
        rows = torch.cat([rows, rows.new_zeros(pad, rows.shape[1])])
    if bias is None:
        bias = rows.new_zeros(w.shape[1])
    # one GEMM per block, each exactly (block, in) @ (in, out): its shape, and so its rounding,
    # never changes. A single batched GEMM (baddbmm over the blocks) was 20 % cheaper at two
    # threads but is not invariant there: MKL splits a batched GEMM over threads by the number of
    # blocks (measured on an Intel Xeon VM: 4 of 6 short texts differed in float16 between alone
    # and in a batch of 40 at 2 threads; 0 at 1 thread, 0 with this loop at either).
    out = torch.cat([torch.addmm(bias, rows[i:i + block], w) for i in range(0, rows.shape[0], block)])  # (n+pad, out)
    return out[:n].to(x.dtype).reshape(*x.shape[:-1], out.shape[-1])


def make_row_blocked(model: torch.nn.Module, block: int, compute_dtype: torch.dtype | None = None) -> RowBlocks:
    """Make every nn.Linear of ``model`` run on blocks of exactly ``block`` rows (the last one
    zero-padded): the GEMM shape never changes, so neither does a row's rounding. The cheaper
    form of ``make_batch_invariant`` for a model with many rows per item (the text encoder's
    tokens), where a row at a time would cost too much. Returns the model's ``RowBlocks``: set
    its ``small`` once smaller blocks are known to round the same.

    ``compute_dtype`` (e.g. ``torch.bfloat16``): the GEMMs run in that dtype on a copy of the
    weights made once here (inputs cast on the way in, results cast back to the input's dtype);
    every other op keeps the model's own dtype. Still one fixed shape a block, so still invariant."""
    blocks = RowBlocks(block)
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            if compute_dtype is None or compute_dtype == m.weight.dtype:
                m.forward = functools.partial(_blocked_linear, m, blocks)  # type: ignore[method-assign]  # on purpose
            else:
                w = m.weight.detach().t().contiguous().to(compute_dtype)  # (in, out)
                bias = m.bias.detach().to(compute_dtype) if m.bias is not None else None
                m.forward = functools.partial(_blocked_gemm, blocks, w, bias)  # type: ignore[method-assign]
    return blocks


def pad_single(items: list) -> list:
    """A lone item goes through as a batch of two (oneDNN picks another conv algorithm for one):
    for models with convolutions (the critic)."""
    return items * 2 if len(items) == 1 else items
