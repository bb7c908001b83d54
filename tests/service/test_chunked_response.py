"""ChunkedResponse: a JSON answer built from pieces goes out whole, in writes of at most CHUNK bytes,
with the Content-Length of the whole, and its pieces are never joined into one string first."""
import base64
import json

import pytest

from service.api.creative import ChunkedResponse

CHUNK = ChunkedResponse.CHUNK


async def _sent(parts: list[bytes]) -> tuple[dict, list[dict]]:
    messages: list[dict] = []

    async def send(message: dict) -> None:
        messages.append(message)

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    await ChunkedResponse(parts, media_type="application/json")({"type": "http"}, receive, send)
    return messages[0], messages[1:]


@pytest.mark.parametrize("sizes", [
    [],  # nothing at all
    [10, 20],  # small: one write
    [100, 3 * CHUNK + 7, 2, 2 * CHUNK, 5],  # large pieces between small ones, a small one last
    [CHUNK - 1, 1, CHUNK + 1],  # small ones that fill a write exactly, a large one last
    [7] * 100_000,  # many tiny pieces gathered into writes
])
async def test_the_pieces_go_out_whole_in_writes_of_at_most_a_chunk(sizes):
    parts = [bytes([i % 251]) * n for i, n in enumerate(sizes)]
    whole = b"".join(parts)
    start, bodies = await _sent(parts)
    assert start["type"] == "http.response.start" and start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-length"] == str(len(whole)).encode()
    assert headers[b"content-type"] == b"application/json"
    assert b"".join(m["body"] for m in bodies) == whole
    assert all(len(m["body"]) <= CHUNK for m in bodies)
    assert [m.get("more_body", False) for m in bodies] == [True] * (len(bodies) - 1) + [False]
    if len(whole) > CHUNK:
        assert len(bodies) >= -(-len(whole) // CHUNK)


async def test_a_creatives_json_pieces_are_its_json_object():
    """Rendered.json_parts joined is the creative's JSON object, the base64 image spliced in."""
    from service.results import Rendered

    r = Rendered(size="300x250", width=300, height=250, variant=0, seed=1, format="png", image=b"\x89PNG data",
                 layout="classic/left", checks={}, layout_scores={}, design={})
    obj = json.loads(b"".join(r.json_parts()))
    assert base64.b64decode(obj["image"]) == b"\x89PNG data" and obj["size"] == "300x250"
