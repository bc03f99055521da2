"""Parse and serialize a real GetScannerElementsResponse: our bindings vs zeep.

    python benchmarks/parse.py [--seconds 2]

The message is the Kyocera ECOSYS M2040dn capture in tests/data/corpus. One round is
bytes -> envelope -> typed object -> envelope bytes:

- ours: ``parse_envelope`` (hardened parser, WS-Addressing) -> ``bind`` to the generated
  ``GetScannerElementsResponse`` -> ``to_element`` -> ``build_envelope``;
- zeep (loading schema/wsdl/scan.wsdl): ``zeep.loader.parse_xml`` -> the Body element
  parsed by the WSDL's ``GetScannerElementsResponse`` element -> rendered back with
  ``render`` into a SOAP 1.2 envelope -> ``tostring``.

Prints rounds per second for both and ``parse: ours_us=X zeep_us=Y speedup=Z`` (zeep's
time per round over ours).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from wsdscan.runtime.xmlbind import SOAP_ENV, WSCN

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = (
    ROOT
    / "tests"
    / "data"
    / "corpus"
    / "go-mfp-kyocera-m2040dn"
    / "GetScannerElementsResponse.xml"
)
WSDL = ROOT / "schema" / "wsdl" / "scan.wsdl"


def ours() -> Callable[[bytes], bytes]:
    from wsdscan.generated.models.scan import GetScannerElementsResponse
    from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope, parse_envelope
    from wsdscan.runtime.xmlbind import bind, to_element

    action = f"{WSCN}/GetScannerElementsResponse"

    def round_trip(data: bytes) -> bytes:
        envelope = parse_envelope(data)
        assert envelope.body is not None
        response = bind(envelope.body, GetScannerElementsResponse)
        return build_envelope(
            to_element(response), action=action, to=ANONYMOUS, relates_to="urn:x"
        )

    return round_trip


def zeep_round_trip() -> Callable[[bytes], bytes]:
    import zeep
    from zeep.loader import parse_xml

    client = zeep.Client(str(WSDL))
    element = client.get_element(f"{{{WSCN}}}GetScannerElementsResponse")
    settings = client.settings

    def round_trip(data: bytes) -> bytes:
        document = parse_xml(data, client.transport, settings=settings)
        body = document.find(f"{{{SOAP_ENV}}}Body")
        assert body is not None
        value = element.parse(body[0], client.wsdl.types)
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        out_body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        element.render(out_body, value)
        return bytes(etree.tostring(envelope))

    return round_trip


def _time(round_trip: Callable[[bytes], bytes], data: bytes, seconds: float) -> float:
    """Microseconds per round (best of five batches)."""
    rounds = 1
    while True:  # size a batch to about seconds / 5
        started = time.perf_counter()
        for _ in range(rounds):
            round_trip(data)
        elapsed = time.perf_counter() - started
        if elapsed > seconds / 5:
            break
        rounds *= 2
    best = elapsed / rounds
    for _ in range(4):
        started = time.perf_counter()
        for _ in range(rounds):
            round_trip(data)
        best = min(best, (time.perf_counter() - started) / rounds)
    return best * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    data = MESSAGE.read_bytes()
    ours_rt, zeep_rt = ours(), zeep_round_trip()
    # Both must really have read the message: the output keeps the device's settings.
    for name, round_trip in (("ours", ours_rt), ("zeep", zeep_rt)):
        out = round_trip(data)
        if b"ScannerConfiguration" not in out or b"PlatenMaximumSize" not in out:
            raise SystemExit(f"{name}: the round trip lost the configuration")
    ours_us = _time(ours_rt, data, args.seconds)
    zeep_us = _time(zeep_rt, data, args.seconds)
    print(f"GetScannerElementsResponse ({len(data)} bytes, Kyocera M2040dn)")
    print(f"ours: {ours_us:9.1f} us/round  {1e6 / ours_us:8.0f} rounds/s")
    print(f"zeep: {zeep_us:9.1f} us/round  {1e6 / zeep_us:8.0f} rounds/s")
    print(
        f"parse: ours_us={ours_us:.1f} zeep_us={zeep_us:.1f} speedup={zeep_us / ours_us:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
