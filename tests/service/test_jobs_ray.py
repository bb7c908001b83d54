"""``adloom batch --ray``: the same feed on local Ray Data (model actors via map_batches) gives the
same files, bytes and manifest as the in-process batch, and resumes the same way."""
from __future__ import annotations

import asyncio
import json
import os

import pytest

from service.creatives import CreativeService
from service.jobs.batch import run_batch

if os.environ.get("CI", "").lower() == "true":
    import ray  # noqa: F401 - in CI Ray must be there (the test extra installs it)
else:
    pytest.importorskip("ray")

SIZE = "64x64"


async def test_ray_batch_matches_the_local_batch_and_resumes(make_pipeline, tmp_path):
    from service.feedback import Feedback
    from service.jobs.ray_batch import run_batch_ray

    feed = tmp_path / "feed.csv"
    feed.write_text("title,price\nLinen dress,39.9\nMug,abc\nDesk lamp,12\nTea set,18\n")
    ray_out, local_out = tmp_path / "ray", tmp_path / "local"
    counts = await asyncio.to_thread(run_batch_ray, feed, ray_out, defaults={"sizes": [SIZE]}, actors=1,
                                     batch_size=2, progress=False)  # blocking: Ray runs it
    assert counts == {"rendered": 3, "skipped": 0, "failed": 1, "manifest_lines": 3}
    assert "price" in json.loads((ray_out / "rows" / "000000002.error.json").read_text())["detail"]

    pipeline = make_pipeline()
    await pipeline.start()
    try:
        local = await run_batch(CreativeService(pipeline, Feedback.from_settings(pipeline.settings)), feed, local_out,
                                defaults={"sizes": [SIZE]}, progress=False)
    finally:
        await pipeline.stop()
    assert local == counts
    names = sorted(p.name for p in ray_out.glob("*.png"))
    assert names == sorted(p.name for p in local_out.glob("*.png")) and len(names) == 3
    assert all((ray_out / n).read_bytes() == (local_out / n).read_bytes() for n in names)

    (ray_out / "rows" / "000000003.jsonl").unlink()  # as if the run had stopped before row 3
    again = await asyncio.to_thread(run_batch_ray, feed, ray_out, defaults={"sizes": [SIZE]}, actors=1,
                                    progress=False)
    assert again == {"rendered": 1, "skipped": 3, "failed": 0, "manifest_lines": 3}
