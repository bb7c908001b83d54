import json

import numpy as np
import pytest
import torch
from PIL import Image

from models.config import ModelConfig
from models.text_encoder import TextEncoder

TINY = {"img_size": 16, "d_channels": [8, 16, 16], "hidden": 32, "depth": 2, "z_dim": 8}


@pytest.fixture(scope="session")
def encoder():
    return TextEncoder()


@pytest.fixture
def tiny_config() -> ModelConfig:
    return ModelConfig.from_dict({**ModelConfig().to_dict(), **TINY})


@pytest.fixture
def folder_dataset(tmp_path):
    """Eight small images with captions, in the folder format users train on: a two-colour
    vertical gradient with a bright disc, different per image."""
    rng = np.random.default_rng(0)
    rows = []
    yy, xx = np.mgrid[0:24, 0:32] / np.array([23.0, 31.0])[:, None, None]
    for i in range(8):
        top, bottom, spot = rng.integers(0, 256, (3, 3))
        img = top * (1 - yy[..., None]) + bottom * yy[..., None]
        cx, cy = rng.uniform(0.25, 0.75, 2)
        disc = (((xx - cx) * 32) ** 2 + ((yy - cy) * 24) ** 2 < 36)[..., None]
        img = np.where(disc, spot, img).astype(np.uint8)
        Image.fromarray(img).save(tmp_path / f"ad{i}.png")
        rows.append({"file": f"ad{i}.png", "text": f"flat colour {i} background"})
    (tmp_path / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
