"""Schema mistakes are errors that name the file and the line, in the API and in the CLI
(exit 2, one line on stderr, no traceback). Each test mutates a copy of the schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from wsdscan.codegen import CodegenError, build
from wsdscan.codegen.pipeline import DEFAULT_SCHEMA

WSDL = "wsdl/scan.wsdl"


def _line_of(text: str, marker: str, start: int = 0) -> int:
    """The 1-based line where ``marker`` first occurs at or after ``start``."""
    return text[: text.index(marker, start)].count("\n") + 1


def _mutate(schema: Path, relative: str, edit: Callable[[str], str]) -> str:
    path = schema / relative
    text = edit(path.read_text())
    path.write_text(text)
    return text


def _assert_error(schema: Path, tmp_path: Path, *expected: str) -> str:
    """``build`` raises a CodegenError containing each of ``expected``; the CLI exits 2
    with the same message as its one line on stderr."""
    with pytest.raises(CodegenError) as caught:
        build(schema)
    message = str(caught.value)
    for text in expected:
        assert text in message
    result = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "wsdscan.codegen",
            "check",
            "--schema",
            str(schema),
        ]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wsdscan-codegen: error: ")
    for text in expected:
        assert text in lines[0]
    return message


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    copy = tmp_path / "schema"
    shutil.copytree(DEFAULT_SCHEMA, copy, ignore=shutil.ignore_patterns("__*__*"))
    return copy


def test_xsd_error_in_an_included_file_names_it_and_the_line(
    schema: Path, tmp_path: Path
) -> None:
    marker = '<xs:element name="JobStatus" type="wscn:JobStatus"/>'
    text = _mutate(
        schema,
        "scan/job.xsd",
        lambda t: t.replace(marker, marker.replace(":JobStatus", ":NoSuchType"), 1),
    )
    line = _line_of(text, ":NoSuchType")
    _assert_error(schema, tmp_path, f"scan/job.xsd:{line}:", "NoSuchType")


def test_malformed_xsd_names_the_file_and_the_line(
    schema: Path, tmp_path: Path
) -> None:
    text = _mutate(
        schema,
        "scan/ticket.xsd",
        lambda t: t.replace("<xs:complexType", "<xs:complexType></xs:notation", 1),
    )
    line = _line_of(text, "</xs:notation")
    _assert_error(schema, tmp_path, f"scan/ticket.xsd:{line}:", "not well-formed")


def test_unknown_message_names_the_wsdl_line(schema: Path, tmp_path: Path) -> None:
    ref = 'message="wscn:CancelJobRequestMsg"'
    text = _mutate(schema, WSDL, lambda t: t.replace(ref, 'message="wscn:NoSuchMsg"'))
    line = _line_of(text, "wscn:NoSuchMsg")
    _assert_error(schema, tmp_path, f"{WSDL}:{line}:", "'NoSuchMsg' is not defined")


def test_unknown_part_element_names_the_wsdl_line(schema: Path, tmp_path: Path) -> None:
    text = _mutate(
        schema, WSDL, lambda t: t.replace(':CancelJobRequest"', ':NoSuchRequest"', 1)
    )
    line = _line_of(text, ":NoSuchRequest")
    _assert_error(schema, tmp_path, f"{WSDL}:{line}:", "NoSuchRequest")


def test_undeclared_prefix_names_the_wsdl_line(schema: Path, tmp_path: Path) -> None:
    text = _mutate(
        schema,
        WSDL,
        lambda t: t.replace('element="wscn:CancelJobRequest"', 'element="nope:X"', 1),
    )
    line = _line_of(text, "nope:X")
    _assert_error(schema, tmp_path, f"{WSDL}:{line}:", "undeclared prefix 'nope'")


def test_operation_without_binding_operation_names_its_line(
    schema: Path, tmp_path: Path
) -> None:
    binding_start = (schema / WSDL).read_text().index("<wsdl:binding")

    def edit(text: str) -> str:
        head, tail = text[:binding_start], text[binding_start:]
        return head + tail.replace('name="CancelJob"', 'name="CancelJobX"', 1)

    text = _mutate(schema, WSDL, edit)
    line = _line_of(text, '<wsdl:operation name="CancelJob">')
    _assert_error(
        schema,
        tmp_path,
        f"{WSDL}:{line}:",
        "operation CancelJob of port type ScannerServiceType has no wsdl:operation",
    )


def test_binding_of_an_unknown_port_type_names_its_line(
    schema: Path, tmp_path: Path
) -> None:
    text = _mutate(
        schema,
        WSDL,
        lambda t: t.replace('type="wscn:ScannerServiceType"', 'type="wscn:Nope"', 1),
    )
    line = _line_of(text, 'type="wscn:Nope"')
    _assert_error(schema, tmp_path, f"{WSDL}:{line}:", "Nope, which is not defined")


def _add_port_type_operation(name: str) -> Callable[[str], str]:
    """A copy of CancelJob under another name, last in the port type."""

    def edit(text: str) -> str:
        start = text.index('<wsdl:operation name="CancelJob">')
        end = text.index("</wsdl:operation>", start) + len("</wsdl:operation>")
        copy = text[start:end].replace('name="CancelJob"', f'name="{name}"')
        return text.replace("</wsdl:portType>", f"  {copy}\n  </wsdl:portType>", 1)

    return edit


def test_duplicate_operation_names_both_lines(schema: Path, tmp_path: Path) -> None:
    text = _mutate(schema, WSDL, _add_port_type_operation("CancelJob"))
    marker = '<wsdl:operation name="CancelJob">'
    first = _line_of(text, marker)
    second = _line_of(text, marker, text.index(marker) + 1)
    assert first < second < _line_of(text, "</wsdl:portType>")
    _assert_error(
        schema,
        tmp_path,
        f"{WSDL}:{second}:",
        "operation CancelJob is declared twice",
        f"lines {first} and {second}",
    )


def test_colliding_method_names_are_an_error(schema: Path, tmp_path: Path) -> None:
    text = _mutate(schema, WSDL, _add_port_type_operation("CancelJOB"))
    first = _line_of(text, '<wsdl:operation name="CancelJob">')
    second = _line_of(text, '<wsdl:operation name="CancelJOB">')
    _assert_error(
        schema,
        tmp_path,
        f"{WSDL}:{second}:",
        f"CancelJob (line {first}) and CancelJOB (line {second})",
        "the method cancel_job",
    )
