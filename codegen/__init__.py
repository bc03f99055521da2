"""wsdscan's code generator: schema/ (XSD + WSDL) -> generated/ (dataclasses and stubs).

Stages: ``load`` -> ``dataclasses_stage``/``class_index``/``service_model`` (model) ->
``render`` -> ``write``; ``pipeline`` runs them and ``cli`` is ``wsdscan-codegen``.
"""

from .errors import CodegenError
from .pipeline import build, check, generate

__all__ = ["CodegenError", "build", "check", "generate"]
