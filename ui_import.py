"""Loading gradio for the UI without the work its import does for gradio's own developers."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType

STUB_WRITER = "gradio.component_meta"


class _NoStubRewrite(importlib.abc.MetaPathFinder):
    """Finds gradio.component_meta as usual, then turns off its `create_or_modify_pyi` once the module has run."""

    def find_spec(self, name: str, path=None, target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        """The usual spec of the stub writer's module, its loader wrapped; None (no opinion) for every other."""
        if name != STUB_WRITER:
            return None
        sys.meta_path.remove(self)  # once is enough; other finders answer from here on
        spec = next((s for f in sys.meta_path if hasattr(f, "find_spec")
                     and (s := f.find_spec(name, path, target)) is not None), None)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            if callable(getattr(module, "create_or_modify_pyi", None)):
                module.create_or_modify_pyi = _leave_stubs

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _leave_stubs(*_args: object) -> None:
    """The installed package's type stubs stay as shipped."""


def prepare_gradio_import() -> None:
    """Set what gradio reads once, at import: no analytics, and no stub regeneration.

    gradio's component metaclass regenerates each component's `.pyi` type stub whenever the class is defined: it
    reads and parses every component's source file on each import (about half of `import gradio`, ~1 s here). The
    stubs ship with the package and nothing at run time reads them, so the UI skips that step."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if "gradio" not in sys.modules and not any(isinstance(f, _NoStubRewrite) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoStubRewrite())
