"""Stage 2a, model (data): xsdata turns the XSDs into dataclass modules.

xsdata runs in a child Python process, in a temporary directory: it resolves output
paths against the working directory and caches them, imports what it wrote to validate
it, and calls ``ruff`` from PATH. A fresh process per run keeps all of that out of ours,
so two runs in one process (or one test session) give byte-identical output.
Its own ruff pass is kept (ruff is pinned); black runs last over everything in the
render stage.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import CodegenError

# The package xsdata writes into, inside the temporary directory.
_SCRATCH_PACKAGE = "wsdscan_codegen_scratch"


def _configure(modules: dict[str, str]) -> object:
    from xsdata.models.config import (
        CompoundFields,
        DocstringStyle,
        GeneratorConfig,
        GeneratorSubstitution,
        NameCase,
        NameConvention,
        ObjectType,
        StructureStyle,
    )

    config = GeneratorConfig()
    config.output.package = _SCRATCH_PACKAGE
    # One module per namespace, named by schema/codegen.toml (the section files of one
    # namespace reference each other, so a module per file would import in circles).
    config.output.structure_style = StructureStyle.NAMESPACES
    config.output.relative_imports = True
    config.output.compound_fields = CompoundFields(enabled=False)
    config.output.docstring_style = DocstringStyle.ACCESSIBLE
    config.output.max_line_length = 88
    config.output.include_header = False
    config.substitutions.substitution = [
        GeneratorSubstitution(ObjectType.PACKAGE, f"^{re.escape(ns)}$", module)
        for ns, module in modules.items()
    ] + [
        # ADFSupportsDuplex -> ADF_SupportsDuplex before snake-casing: adf_supports_duplex,
        # not xsdata's adfsupports_duplex.
        GeneratorSubstitution(ObjectType.FIELD, "([A-Z]+)([A-Z][a-z])", r"\1_\2"),
    ]
    # Class names as the schema spells them: ADFFront, not Adffront.
    config.conventions.class_name = NameConvention(NameCase.ORIGINAL, "type")
    return config


def _child_main(arguments: str) -> int:
    """Entry point in the child process: run xsdata in the current directory."""
    from xsdata.codegen.exceptions import CodegenError as XsdataCodegenError
    from xsdata.codegen.transformer import ResourceTransformer

    request = json.loads(arguments)
    transformer = ResourceTransformer(config=_configure(request["modules"]))  # type: ignore[arg-type]
    try:
        transformer.process(request["uris"])
    except XsdataCodegenError as exc:
        print(f"{exc}", file=sys.stderr)
        return 1
    return 0


def generate_dataclass_modules(
    xsd_files: tuple[Path, ...], modules: dict[str, str]
) -> dict[str, str]:
    """Return ``{module path relative to the models package: source}`` for the XSDs,
    one module per target namespace, named by ``modules`` (namespace -> module)."""
    request = json.dumps({"uris": [p.as_uri() for p in xsd_files], "modules": modules})
    environment = dict(os.environ)
    # xsdata runs `ruff` from PATH: make it the one installed next to this Python.
    environment["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), environment.get("PATH", "")]
    )
    with tempfile.TemporaryDirectory(prefix="wsdscan-codegen-") as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "wsdscan.codegen.dataclasses_stage", request],
            cwd=tmp,
            env=environment,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise CodegenError(
                "xsdata could not generate the dataclasses: " + " | ".join(detail)
            )
        out = Path(tmp) / _SCRATCH_PACKAGE
        generated = {
            path.relative_to(out).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(out.rglob("*.py"))
        }
    if not generated:
        raise CodegenError("xsdata produced no modules")
    return generated


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1]))
