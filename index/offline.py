"""Switches that keep third-party libraries off the network: no Hugging Face hub look-ups, no Chroma telemetry.

Imported by every index module that loads such a library, before it loads it, so `index` used on its own (without
the assistant layer) is offline too. Setting them again is harmless; the user can still configure nothing back on.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # forked workers would otherwise warn and deadlock
