"""litassist assistant layer: question -> cited answer. Owns settings, the CLI and evaluation."""

import os

# Nothing leaves the machine unless the user configures an LLM endpoint: hub look-ups, Chroma
# telemetry and Gradio analytics are switched off before those libraries are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
