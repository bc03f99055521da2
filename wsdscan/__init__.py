"""wsdscan: Python bindings for the WSD Scan Service (WS-Scan).

Subpackages: ``wsdscan.generated`` (dataclasses and stubs produced from ``schema/``),
``wsdscan.runtime`` (SOAP 1.2, WS-Addressing, faults, transports) and ``wsdscan.codegen``
(the generator).
"""

__version__ = "0.1.0"
