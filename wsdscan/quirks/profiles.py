"""Every workaround for what real devices put in (or leave out of) the
GetScannerElementsResponse a profile is made from, in one place.

* **Required elements left out** (any device): a required element the schema wants
  and a device omits (a Platen without PlatenMinimumSize, DeviceSettings without
  FormatsSupported, a JobDescription without JobOriginatingUserName, ...) is filled in
  from the built-in virtual scanner's own answer, and each one is named in the
  profile's ``filled`` list, which ``profiles.py`` logs. Which elements are required
  comes from the generated bindings (the schema), not from a list kept here. A device
  that does not say whether its ADF has duplex is taken to have none.
* **Maximum size wider than high: Kyocera ECOSYS M2040dn** (firmware 2S0_2000.001.828,
  wsdscan/virtual/profiles/kyocera-m2040dn.xml, from OpenPrinting/go-mfp; device-quirks
  #20): PlatenMaximumSize and ADFMaximumSize are 14016 x 8504 (1/1000 inch), a
  landscape area, while its own DefaultScanTicket asks for A4 portrait (8266 x
  11690); sane-airscan swaps such a width and height (airscan-wsd.c) and then asks for
  8504 x 14016. The virtual scanner keeps advertising what the device advertises and
  takes the maximum size in either orientation (``SourceLimits.any_orientation``) for
  every source whose maximum is wider than high (``maximum_size_swapped`` in this
  package's ``__init__``, which the client reads such a size with).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Final

from lxml import etree
from xsdata.formats.dataclass.context import XmlContext

from wsdscan.generated.models.scan import ScannerConfiguration
from wsdscan.runtime.xmlbind import to_element

_CONTEXT: Final = XmlContext()


def fill_required(
    element: etree._Element,
    template: etree._Element | None,
    cls: type[object],
    path: str,
    filled: list[str],
) -> None:
    """Add to ``element`` (bound later as ``cls``) every required child element it
    lacks, copied from ``template`` (the built-in scanner's same element), recursively;
    appends the path of each filled element to ``filled``. A required element the
    template lacks too is left missing: binding then says what is wrong."""
    meta = _CONTEXT.build(cls)
    for var in meta.get_element_vars():
        present = element.findall(var.qname)
        source = template.find(var.qname) if template is not None else None
        where = f"{path}/{var.local_name}"
        if not present:
            if var.required and source is not None:
                element.append(copy.deepcopy(source))
                filled.append(where)
            continue
        child_cls = next((t for t in var.types if dataclasses.is_dataclass(t)), None)
        if isinstance(child_cls, type):
            for child in present:
                fill_required(child, source, child_cls, where, filled)


def configuration_template(builtin: ScannerConfiguration) -> etree._Element:
    """The built-in configuration as the template for :func:`fill_required`. Its ADF
    says no duplex: a device that does not say it has duplex has none."""
    template = copy.deepcopy(builtin)
    if template.adf is not None:
        template.adf.adf_supports_duplex = False
    return to_element(template)
