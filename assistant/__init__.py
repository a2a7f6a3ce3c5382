"""litassist assistant layer: question -> cited answer. Owns settings, the CLI and evaluation."""

from litassist.index import offline  # noqa: F401  (no hub look-ups or telemetry, whichever layer is imported first)
