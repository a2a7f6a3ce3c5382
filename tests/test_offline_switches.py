"""The index layer is offline on its own: importing it (without the assistant layer) switches off hub look-ups and
Chroma telemetry before those libraries load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = """
import litassist.index.embedding, litassist.index.store
import huggingface_hub.constants as hub
import chromadb.config
print(hub.HF_HUB_OFFLINE, chromadb.config.Settings().anonymized_telemetry)
"""


def test_importing_index_alone_turns_off_hub_lookups_and_telemetry() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY")}
    env["PYTHONPATH"] = str(ROOT)
    run = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "False"], run.stdout
