import json

import numpy as np
import pytest
import torch
from PIL import Image

from models.config import ModelConfig

TINY = {"img_size": 16, "g_channels": [16, 16, 8], "d_channels": [8, 16, 16], "w_dim": 32, "z_dim": 8}


@pytest.fixture(scope="session")
def encoder():
    from models.text_encoder import TextEncoder
    return TextEncoder()


@pytest.fixture
def tiny_config() -> ModelConfig:
    return ModelConfig.from_dict({**ModelConfig().to_dict(), **TINY})


@pytest.fixture
def folder_dataset(tmp_path):
    """Eight small images with captions, in the folder format users train on."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        colour = rng.integers(0, 256, 3)
        img = np.broadcast_to(colour, (24, 32, 3)).astype(np.uint8)
        Image.fromarray(img).save(tmp_path / f"ad{i}.png")
        rows.append({"file": f"ad{i}.png", "text": f"flat colour {i} background"})
    (tmp_path / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
