import random

import pytest
import torch

from models.text_encoder import LENGTH_BUCKETS, MAX_TOKENS, SMALL_BLOCKS, TextEncoder, length_bucket

TEXTS = ["Linen summer dress", "navy blue background with stripes", "一件时尚的红色连衣裙",
         "a much longer description " * 40, "x"]


def test_matches_sentence_transformers(encoder):
    # Lazy on purpose: sentence-transformers (a test-only reference) is a heavy import that only
    # this test needs.
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(encoder.path), device="cpu")
    # The folder's sentence_bert_config says 256; the model was trained at 128 tokens and the
    # issue fixes truncation at 128, so the reference is run with the same limit.
    reference.max_seq_length = 128
    expected = torch.tensor(reference.encode(TEXTS))
    got = encoder.encode(TEXTS)
    assert got.shape == (len(TEXTS), 384)
    assert (got - expected).abs().max().item() <= 1e-5


def test_unit_length_and_padding_independent(encoder):
    together = encoder.encode(TEXTS)
    alone = torch.cat([encoder.encode([t]) for t in TEXTS])
    assert torch.allclose(together.norm(dim=1), torch.ones(len(TEXTS)), atol=1e-5)
    assert (together - alone).abs().max().item() < 1e-5


def test_id_names_model_and_weights(encoder):
    name, digest = encoder.id.split("@")
    assert name == "all-MiniLM-L6-v2" and len(digest) == 8


def test_bad_input(encoder):
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        encoder.encode("not a list")


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        TextEncoder(tmp_path)


SHORT = ["yoga", "running shoes for trail", "beach holidays", "navy blue bokeh lights", "Linen summer dress"]
LONG = ["a very long product description " * 12, "another long text about many things " * 6]


def test_float16_bytes_do_not_depend_on_the_batch(encoder):
    """What the cache stores (float16) is byte-identical for a text encoded alone, padded among
    long texts, or in a large batch: determinism may not depend on cache evictions or replicas."""
    alone = {t: encoder.encode([t]).numpy().astype("float16").tobytes() for t in SHORT}
    among_long = encoder.encode(LONG + SHORT + LONG).numpy().astype("float16")[len(LONG):len(LONG) + len(SHORT)]
    crowd = encoder.encode(SHORT * 8 + TEXTS).numpy().astype("float16")[:len(SHORT)]
    for i, t in enumerate(SHORT):
        assert among_long[i].tobytes() == alone[t], t
        assert crowd[i].tobytes() == alone[t], t


def test_length_buckets_cover_every_length():
    assert LENGTH_BUCKETS[-1] == MAX_TOKENS and list(LENGTH_BUCKETS) == sorted(LENGTH_BUCKETS)
    assert all(n <= length_bucket(n) < 2 * n + 8 for n in range(1, MAX_TOKENS + 1))


@pytest.fixture(scope="module")
def bf16_encoder():
    return TextEncoder(bf16=True)


def test_bf16_is_close_to_float32_and_named_apart(encoder, bf16_encoder):
    """The bfloat16 matrix products (ADLOOM_ENCODER_BF16) keep every embedding within a cosine of
    float32's that no ranking of texts notices; the id of what was computed says which it is."""
    texts = TEXTS + SHORT + LONG + ["Rotes Sommerkleid aus Leinen", "robe d'été rouge", "赤いドレス",
                                    "فستان أحمر", "लाल पोशाक", "ชุดสีแดง"]
    ref, got = encoder.encode(texts), bf16_encoder.encode(texts)
    cos = (ref * got).sum(1)
    assert cos.min().item() >= 0.9995, cos
    assert not torch.equal(ref, got)  # it did compute in bf16
    assert torch.allclose(got.norm(dim=1), torch.ones(len(texts)), atol=1e-5)
    assert (ref @ ref.T - got @ got.T).abs().max().item() < 0.01  # how texts relate to each other
    assert bf16_encoder.id == encoder.id  # the same weights: what a checkpoint was trained with
    assert bf16_encoder.embedding_id == encoder.id + "+bf16" and encoder.embedding_id == encoder.id


def test_bf16_float16_bytes_do_not_depend_on_the_batch(bf16_encoder):
    alone = {t: bf16_encoder.encode([t]).numpy().astype("float16").tobytes() for t in SHORT}
    crowd = bf16_encoder.encode(LONG + SHORT * 8 + TEXTS).numpy().astype("float16")[len(LONG):len(LONG) + len(SHORT)]
    for i, t in enumerate(SHORT):
        assert crowd[i].tobytes() == alone[t], t


MIXED = SHORT + LONG + TEXTS + ["Rotes Sommerkleid aus Leinen", "赤いドレス", "فستان أحمر", "लाल पोशाक", "ชุดสีแดง",
                                "gold bokeh on black", "a", "trail running shoes, waterproof, size 42 " * 3]


@pytest.mark.parametrize("which", ["float32", "bf16"])
def test_packed_forward_gives_the_per_bucket_embeddings_bit_for_bit(encoder, bf16_encoder, which):
    """One forward pass for every length group (models/packing.py) is what encode uses on CPU; its
    embeddings are exactly those of one transformers forward pass per group, in any mix of lengths."""
    enc = encoder if which == "float32" else bf16_encoder
    assert enc.packed, "the packed forward should hold on this CPU (see models/packing.py)"
    rng = random.Random(7)
    for n in (1, 2, 3, 5, 9, 17, len(MIXED)):
        texts = rng.sample(MIXED, n)
        assert torch.equal(enc._encode(texts, True), enc._encode(texts, False)), texts


def test_packing_falls_back_when_it_would_change_an_embedding(encoder, monkeypatch):
    import models.text_encoder as te
    from models.packing import supports

    assert supports(encoder.model) and not supports(torch.nn.Linear(4, 4))
    packed_forward = te.packed_forward

    def off_by_a_bit(model, batches):
        return [h * (1 + 1e-6) for h in packed_forward(model, batches)]

    monkeypatch.setattr(te, "packed_forward", off_by_a_bit)
    assert encoder._packing_holds() is False

    def broken(model, batches):
        raise RuntimeError("another transformers")

    monkeypatch.setattr(te, "packed_forward", broken)
    assert encoder._packing_holds() is False


@pytest.mark.parametrize("which", ["float32", "bf16"])
def test_small_blocks_give_the_32_row_embeddings_bit_for_bit(encoder, bf16_encoder, which):
    """A lone short text runs on one 8- or 16-row GEMM block where that size was checked
    (SMALL_BLOCKS_NOTE): its embedding is exactly the one it gets on 32-row blocks, alone, in pairs
    and in a crowd."""
    enc = encoder if which == "float32" else bf16_encoder
    assert enc.blocks is not None
    kept = enc.blocks.small
    if not kept:
        pytest.skip("GEMMs of 8 and 16 rows both round differently from 32 on this CPU: none is used")
    short = SHORT + ["Rotes Sommerkleid", "赤いドレス", "فستان أحمر", "लाल पोशाक", "gold bokeh on black", "a"]
    sets = [[t] for t in short] + [short[i:i + 2] for i in range(0, len(short) - 1)]
    small = [enc.encode(texts) for texts in sets]
    enc.blocks.small = ()
    try:
        assert all(torch.equal(a, enc.encode(texts)) for a, texts in zip(small, sets))
    finally:
        enc.blocks.small = kept
    crowd = enc.encode(short * 4 + LONG)
    for i, t in enumerate(short):
        assert torch.equal(crowd[i], small[i][0]), t


def test_only_the_small_blocks_that_round_the_same_are_kept(encoder, monkeypatch):
    """Each size is checked on its own: one that changes an embedding (or fails) is left out, and
    the others are kept."""
    kept = encoder.blocks.small
    encode = encoder._encode

    def off_by_a_bit_on(size):
        def _encode(texts, packed):
            out = encode(texts, packed)
            return out * (1 + 1e-6) if size in encoder.blocks.small else out
        return _encode

    def broken(texts, packed):
        if encoder.blocks.small:
            raise RuntimeError("no such GEMM shape")
        return encode(texts, packed)

    def check():
        # run on an encoder that holds every small size, as a loaded one may: the references must
        # still be the 32-row ones (a CPU where both sizes held caught the check comparing a size
        # with itself)
        encoder.blocks.small = SMALL_BLOCKS
        return encoder._small_blocks_that_hold()

    try:
        monkeypatch.setattr(encoder, "_encode", off_by_a_bit_on(8))
        assert 8 not in check() and encoder.blocks.small == ()
        monkeypatch.setattr(encoder, "_encode", off_by_a_bit_on(16))
        assert 16 not in check() and encoder.blocks.small == ()
        monkeypatch.setattr(encoder, "_encode", broken)
        assert check() == () and encoder.blocks.small == ()
        monkeypatch.setattr(encoder, "_encode", encode)
        assert check() == kept, "the check is what loading found"
    finally:
        encoder.blocks.small = kept
