"""wsdscan's code generator: schema/ (XSD + WSDL) -> generated/ (dataclasses and stubs).

Stages: ``load`` -> ``dataclasses_stage``/``class_index``/``service_model`` (model) ->
``render`` -> ``write``; ``pipeline`` runs them and ``cli`` is ``wsdscan-codegen``.

The stages need the ``[codegen]`` extra (jinja2, black, xsdata[cli], ruff); they are
imported on first use, so ``wsdscan-codegen --help`` works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import CodegenError

if TYPE_CHECKING:
    from .pipeline import build, check, generate

__all__ = ["CodegenError", "build", "check", "generate"]


def __getattr__(name: str) -> Any:
    if name in {"build", "check", "generate"}:
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
