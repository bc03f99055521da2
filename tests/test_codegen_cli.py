"""``wsdscan-codegen`` as an installed tool: --version, life without the [codegen]
extra, export-schema, and never writing into installed packages."""

from __future__ import annotations

import ast
import importlib.metadata
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from wsdscan.codegen import cli, locations
from wsdscan.codegen.export import schema_files
from wsdscan.codegen.pipeline import DEFAULT_OUT, DEFAULT_SCHEMA, build

# -P: never the current folder on sys.path (a source tree there would shadow wsdscan).
CLI = [sys.executable, "-P", "-m", "wsdscan.codegen"]

# Runs the CLI (through python -m's own path: package __init__, then __main__) with
# jinja2 and black made unimportable, as if the [codegen] extra were not installed.
WITHOUT_EXTRA = """
import runpy, sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"jinja2", "black"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
sys.argv = ["wsdscan-codegen", *sys.argv[1:]]
runpy.run_module("wsdscan.codegen", run_name="__main__", alter_sys=True)
"""


def _run(*args: str, blocked: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-P", "-c", WITHOUT_EXTRA] if blocked else CLI
    return subprocess.run(command + list(args), capture_output=True, text=True)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wsdscan-codegen: error: ")
    return lines[0]


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    expected = importlib.metadata.version("wsdscan")
    assert result.stdout.strip() == f"wsdscan-codegen {expected}"


def test_the_blocker_really_blocks() -> None:
    probe = WITHOUT_EXTRA.replace("runpy.run_module", "import black  #")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True)
    assert result.returncode != 0 and b"ModuleNotFoundError" in result.stderr


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_need_no_extra(option: str) -> None:
    result = _run(option, blocked=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "wsdscan-codegen" in result.stdout


@pytest.mark.parametrize("command", ["generate", "check"])
def test_generate_and_check_without_extra_say_what_to_install(
    command: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    line = _one_error_line(_run(command, "--out", str(out), blocked=True))
    assert "the generator needs its extra" in line
    assert "pip install 'wsdscan[codegen]'" in line
    assert "black" in line and "jinja2" in line
    assert not out.exists()


def test_export_schema_writes_the_shipped_schema(tmp_path: Path) -> None:
    dest = tmp_path / "schema"
    result = _run("export-schema", str(dest), blocked=True)  # needs no extra either
    assert result.returncode == 0, result.stderr
    exported = schema_files(dest)
    assert exported == schema_files(DEFAULT_SCHEMA)
    assert {"codegen.toml", "wsdl/scan.wsdl", "scan/scan.xsd"} <= set(exported)
    assert not any(name.endswith(".py") for name in exported)
    for name in exported:
        assert (dest / name).read_bytes() == (DEFAULT_SCHEMA / name).read_bytes()


def test_export_schema_refuses_a_non_empty_dir_unless_forced(tmp_path: Path) -> None:
    dest = tmp_path / "schema"
    dest.mkdir()
    (dest / "codegen.toml").write_text("# mine\n")
    line = _one_error_line(_run("export-schema", str(dest)))
    assert "not empty" in line and "--force" in line
    assert (dest / "codegen.toml").read_text() == "# mine\n"

    assert _run("export-schema", "--force", str(dest)).returncode == 0
    assert (dest / "codegen.toml").read_bytes() == (
        DEFAULT_SCHEMA / "codegen.toml"
    ).read_bytes()


@pytest.mark.parametrize("command", ["generate", "export-schema"])
def test_refuses_to_write_into_site_packages(command: str) -> None:
    target = Path(sysconfig.get_paths()["purelib"]) / "wsdscan-codegen-probe"
    args = ["--out", str(target)] if command == "generate" else [str(target)]
    line = _one_error_line(_run(command, *args))
    assert "refusing to write into installed packages" in line
    assert not target.exists()


def _fake_root(tmp_path: Path, pyproject: str | None) -> Path:
    root = tmp_path / "root"
    (root / "codegen").mkdir(parents=True)
    (root / "generated").mkdir()
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    return root


@pytest.mark.parametrize(
    ("pyproject", "is_checkout"),
    [
        ('[project]\nname = "wsdscan"\n', True),
        ('[project]\nname = "acme-scan"\n', False),
        ("not toml [", False),
        (None, False),  # site-packages/wsdscan: no pyproject.toml
    ],
)
def test_source_checkout_detection(
    pyproject: str | None,
    is_checkout: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _fake_root(tmp_path, pyproject)
    monkeypatch.setattr(locations, "PACKAGE_ROOT", root)
    assert locations.source_checkout() == (root if is_checkout else None)


def test_outside_a_checkout_generate_needs_out_and_check_reads_the_installed_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _fake_root(tmp_path, None)
    shutil.rmtree(root / "generated")
    shutil.copytree(
        DEFAULT_OUT, root / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    before = sorted(p.stat().st_mtime_ns for p in (root / "generated").rglob("*"))
    monkeypatch.setattr(locations, "PACKAGE_ROOT", root)

    assert cli.main(["generate"]) == 2
    error = capsys.readouterr().err
    assert error == (
        "wsdscan-codegen: error: --out is required outside a wsdscan source checkout\n"
    )
    # An --out inside the installed package is refused even if it is no site-packages.
    assert cli.main(["generate", "--out", str(root / "generated")]) == 2
    assert "refusing to write into installed packages" in capsys.readouterr().err

    assert cli.main(["check"]) == 0
    assert f"{root / 'generated'} is up to date" in capsys.readouterr().out
    assert sorted(p.stat().st_mtime_ns for p in (root / "generated").rglob("*")) == (
        before
    )

    (root / "generated" / "stubs" / "routes.py").write_text("# broken install\n")
    assert cli.main(["check"]) == 1
    output = capsys.readouterr().out
    assert "pass --out to check your own bindings, or reinstall wsdscan" in output
    assert "changed: stubs/routes.py" in output


def test_bindings_stand_only_on_the_runtime() -> None:
    """The generated package imports itself relatively, and of wsdscan only the runtime:
    a copy generated elsewhere must not reach into wsdscan.generated."""
    allowed = set(sys.stdlib_module_names) | {"xsdata", "wsdscan"}
    for path, text in build(DEFAULT_SCHEMA).items():
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                assert module.partition(".")[0] in allowed, (path, module)
                if module.startswith("wsdscan"):
                    assert module.startswith("wsdscan.runtime."), (path, module)
