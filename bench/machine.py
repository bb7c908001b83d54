"""What the numbers were measured on."""
from __future__ import annotations

import datetime as dt
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gpu() -> str:
    """The CUDA device torch sees, or "none"."""
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - no torch / broken driver: there is no usable GPU
        pass
    return "none"


def machine_info() -> dict:
    import torch

    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        mem_gib = None
    return {"cores": cores(), "cpu_model": cpu_model(), "gpu": gpu(), "memory_gib": mem_gib,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "os": f"{platform.system()} {platform.release()}"}
