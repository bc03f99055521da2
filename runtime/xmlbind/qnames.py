"""Clark-notation QNames (``{namespace}local``), as lxml and the fault classes write
them."""

from __future__ import annotations


def clark(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def split_clark(qname: str) -> tuple[str, str]:
    """``{ns}local`` -> ``(ns, local)``; a bare ``local`` -> ``("", local)``."""
    if qname.startswith("{"):
        end = qname.find("}")
        if end < 0 or end == len(qname) - 1:
            raise ValueError(f"not a Clark-notation QName: {qname!r}")
        return qname[1:end], qname[end + 1 :]
    if not qname or "}" in qname or ":" in qname:
        raise ValueError(f"not a Clark-notation QName: {qname!r}")
    return "", qname


def local_name(qname: str) -> str:
    return split_clark(qname)[1]
