"""Every element page of the WS-Scan reference has its generated class or field.

Issue requirement: "Coverage: every element page in shared/spec/ws-scan/ has its generated class
or field, with the documented children and attributes (the test reads the pages, not a list
typed by hand)."

The pages (``shared/spec/ws-scan/*.md`` beside the checkout) are derived into
``tests/data/spec/elements.json`` by ``tests/data/spec/derive.py``; tests/test_spec_data.py
checks that file against the pages where they are present.

What is checked, per page (``spec_pages.element_pages()``), using xsdata's ``XmlContext`` over
every dataclass in ``wsdscan.generated.models.scan``:

1. The element exists: some class is bound to the page's element name (a global element class
   of that name, or the type of a field with that XML name) or at least one field has that XML
   name (leaf elements, whose type is a simple type).
2. If the page documents children or attributes, at least one of the classes bound to the
   element has a field for every child page's element name and every documented attribute
   (local names compared; ``lang`` is ``xml:lang``).

Element names used by two pages (ElementData, JobHistory, Name, ScalingWidth, ScalingHeight)
are disambiguated through the page's parent pages: only the fields of that name in the
classes bound to the parent pages count.

Deliberate departures of the schema from a page are in ``EXCEPTIONS``, each with the reason and
the ``schema/SOURCES.md`` note that records it. An exception that stops being needed fails
the test, so the list stays small and true.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from functools import cache
from types import ModuleType
from typing import Any

import pytest
import wsdscan.generated.models.scan as scan_models
from spec_pages import ElementPage, element_pages, page_by_stem
from xsdata.formats.dataclass.context import XmlContext

WSCN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"

# (page stem, what the page documents that the schema does not have) -> reason.
# "child:X" = child element X, "attribute:X" = attribute X.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # adfresolutions.md's child table links height.md/width.md, but its own remarks ("list all
    # possible widths ... within the Widths child element"), the scannerelementschangeevent.md
    # example, the Kyocera device and every capture use Widths/Heights, like Platen- and
    # FilmResolutions (schema/SOURCES.md, scanner.xsd, departure 3).
    ("adfresolutions", "child:Height"): "ADFResolutions holds Heights, not Height",
    ("adfresolutions", "child:Width"): "ADFResolutions holds Widths, not Width",
}


def _local(qname: str) -> str:
    return qname.rsplit("}", 1)[-1]


class GeneratedModel:
    """The XML view of a module of generated classes (what the pages are checked against)."""

    def __init__(self, module: ModuleType) -> None:
        context = XmlContext()
        self.classes = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and dataclasses.is_dataclass(obj)
            and obj.__module__ == module.__name__
        ]
        self.metas = {cls: context.build(cls) for cls in self.classes}
        # element local name -> classes bound to it (global elements and field types)
        self.bound: dict[str, set[type]] = defaultdict(set)
        # element local name -> classes that have a field of that name
        self.owners: dict[str, set[type]] = defaultdict(set)
        # type name -> class, for the named types (no element of their own)
        self.named: dict[str, type] = {}
        for cls, meta in self.metas.items():
            if meta.qname.startswith(f"{{{WSCN}}}"):  # global element (Meta.namespace)
                self.bound[_local(meta.qname)].add(cls)
            else:
                self.named[meta.qname] = cls
            for var in self.element_vars(cls):
                self.owners[var.local_name].add(cls)
                if var.clazz is not None:
                    self.bound[var.local_name].add(var.clazz)

    def element_vars(self, cls: type) -> list[Any]:
        return [
            var for xml_vars in self.metas[cls].elements.values() for var in xml_vars
        ]

    def children(self, cls: type) -> set[str]:
        return {var.local_name for var in self.element_vars(cls)}

    def attributes(self, cls: type) -> set[str]:
        return {var.local_name for var in self.metas[cls].attributes.values()}

    def fields_named(self, cls: type, name: str) -> list[Any]:
        return [var for var in self.element_vars(cls) if var.local_name == name]


def _shared_names() -> set[str]:
    counts = Counter(page.element for page in element_pages())
    return {name for name, count in counts.items() if count > 1}


def resolve(model: GeneratedModel, page: ElementPage) -> tuple[set[type], bool]:
    """(classes bound to the page's element, whether a field of that name exists)."""
    pages = page_by_stem()
    if page.element not in _shared_names():
        classes = set(model.bound.get(page.element, set()))
        if not page.parent_pages and page.element in model.named:
            # A page without parents that is not a message (JobTable): its named type.
            classes.add(model.named[page.element])
        return classes, bool(model.owners.get(page.element))
    # Shared element name: only the fields of that name in the parents' classes count.
    classes: set[type] = set()
    has_field = False
    for parent in page.parent_pages:
        parent_classes, _ = resolve(model, pages[parent])
        for parent_cls in parent_classes:
            for var in model.fields_named(parent_cls, page.element):
                has_field = True
                if var.clazz is not None:
                    classes.add(var.clazz)
    return classes, has_field


def documented(page: ElementPage) -> set[str]:
    """What the page documents as content: "child:X" per child page, "attribute:X"."""
    pages = page_by_stem()
    return {f"child:{pages[stem].element}" for stem in page.child_pages} | {
        f"attribute:{name}" for name in page.attributes
    }


def missing(model: GeneratedModel, page: ElementPage) -> list[str]:
    """Problems of one page against the model (exceptions not yet applied)."""
    classes, has_field = resolve(model, page)
    if not classes and not has_field:
        return [f"no class or field for <{page.element}>"]
    wanted = documented(page)
    if not wanted:
        return []
    if not classes:
        return [
            f"<{page.element}> documents {sorted(wanted)} but only leaf fields exist"
        ]
    # The best class: the one lacking the fewest documented items.
    gaps = []
    for cls in classes:
        have = {f"child:{n}" for n in model.children(cls)} | {
            f"attribute:{n}" for n in model.attributes(cls)
        }
        gaps.append(sorted(wanted - have))
    return min(gaps, key=len)


def coverage_failures(module: ModuleType = scan_models) -> dict[str, list[str]]:
    """Page stem -> what the generated module lacks, after the listed exceptions."""
    model = GeneratedModel(module)
    failures: dict[str, list[str]] = {}
    for page in element_pages():
        problems = [p for p in missing(model, page) if (page.stem, p) not in EXCEPTIONS]
        if problems:
            failures[page.stem] = problems
    return failures


# --- the tests -------------------------------------------------------------------------------


def test_pages_are_read() -> None:
    pages = element_pages()
    assert len(pages) >= 170, len(pages)
    stems = page_by_stem()
    for page in pages:
        for stem in page.child_pages + page.parent_pages:
            assert (
                stem in stems
            ), f"{page.stem} links {stem}, which is not an element page"
    # The shared names the disambiguation has to handle (derived, checked for sanity).
    assert {"ElementData", "JobHistory", "Name", "ScalingWidth", "ScalingHeight"} <= (
        _shared_names()
    )


@pytest.mark.parametrize("page", element_pages(), ids=lambda page: page.stem)
def test_page_has_class_or_field(page: ElementPage) -> None:
    model = _model()
    problems = [p for p in missing(model, page) if (page.stem, p) not in EXCEPTIONS]
    assert not problems, f"{page.stem}.md: {problems}"


def test_shared_element_names_resolve_to_their_own_types() -> None:
    """The two pages of a shared name resolve to the types CONVENTIONS.md rule 5 fixes."""
    model = _model()
    pages = page_by_stem()
    expected = {
        "elementdata-for-scannerelements-element": {"ScannerElementData"},
        "elementdata-for-jobelements-element": {"JobElementData"},
        "jobhistory": {"JobHistory"},
        "jobhistory2": {
            "JobHistory",
            "JobTableHistory",
        },  # GetJobHistoryResponse, JobTable
        "scalingwidth": {"ScalingWidth"},
        "scalingwidth2": {"ScalingRangeWidth"},
        "scalingheight": {"ScalingHeight"},
        "scalingheight2": {"ScalingRangeHeight"},
        "name-for-requestedelements-element": set(),  # leaf field (xs:QName)
        "name-element-for-devicecondition-and-conditionhistoryentry": set(),  # leaf field
    }
    for stem, names in expected.items():
        classes, has_field = resolve(model, pages[stem])
        assert {cls.__name__ for cls in classes} == names, stem
        assert has_field, stem


def test_exceptions_are_few_and_still_needed() -> None:
    assert len(EXCEPTIONS) <= 5, "the exceptions list must stay small"
    model = _model()
    pages = page_by_stem()
    for (stem, item), reason in EXCEPTIONS.items():
        assert reason
        assert item in documented(pages[stem]), f"{stem}.md no longer documents {item}"
        assert item in missing(
            model, pages[stem]
        ), f"{stem}.md: {item} is in the schema now; remove the exception"


def test_all_pages_covered() -> None:
    assert coverage_failures() == {}


@cache
def _model() -> GeneratedModel:
    return GeneratedModel(scan_models)
