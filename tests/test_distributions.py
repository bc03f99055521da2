"""The sdist and the wheel are complete: every package (found, not listed), py.typed in
each, the templates and the schema in the wheel; everything needed to build and test in
the sdist; and a wheel built from the sdist has the same files as one built from the
tree. The builds run without isolation (setuptools and build are test dependencies), on
a copy of the checkout's files so no stale build/ folder can hide a gap."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Top-level folders and the packages they become (setup.py).
FOLDERS = {
    "wsdscan": "wsdscan",
    "codegen": "wsdscan.codegen",
    "generated": "wsdscan.generated",
    "runtime": "wsdscan.runtime",
    "schema": "wsdscan.schema",
}
_JUNK = {".git", ".venv", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache"}


def _project_files() -> list[Path]:
    """The checkout's files as a clean clone has them (plus new, unignored ones)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [Path(name) for name in listing.split("\0") if name]
    return [
        path.relative_to(ROOT)
        for path in ROOT.rglob("*")
        if path.is_file() and not _JUNK & set(path.relative_to(ROOT).parts)
    ]


def _build(args: list[str], source: Path, out: Path) -> None:
    command = [sys.executable, "-m", "build", "--no-isolation", *args, "-o", str(out)]
    result = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _digests(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if not name.endswith("/RECORD")  # hashes of the rest, compared anyway
        }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip(
        "build", reason="build is a test dependency (pip install .[test])"
    )
    work = tmp_path_factory.mktemp("dist")
    tree = work / "tree"
    for name in _project_files():
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    _build(["--sdist"], tree, work / "sdist")
    sdist = next((work / "sdist").glob("*.tar.gz"))
    unpacked = work / "unpacked"
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    _build(["--wheel"], next(unpacked.iterdir()), work / "from-sdist")
    _build(["--wheel"], tree, work / "from-tree")
    return {
        "sdist": sdist,
        "wheel_from_sdist": next((work / "from-sdist").glob("*.whl")),
        "wheel_from_tree": next((work / "from-tree").glob("*.whl")),
    }


def test_wheel_from_sdist_equals_wheel_from_tree(built: dict[str, Path]) -> None:
    from_sdist = _digests(built["wheel_from_sdist"])
    from_tree = _digests(built["wheel_from_tree"])
    assert sorted(from_sdist.keys() ^ from_tree.keys()) == []
    assert [n for n in from_tree if from_tree[n] != from_sdist[n]] == []


def test_wheel_has_every_package_with_py_typed(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel_from_tree"]) as archive:
        names = set(archive.namelist())
    in_wheel = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    in_tree = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            sub = init.parent.relative_to(ROOT / folder).parts
            in_tree.add("/".join([*package.split("."), *sub]))
    assert sorted(in_tree - in_wheel) == []
    assert sorted(p for p in in_wheel if f"{p}/py.typed" not in names) == []
    assert "wsdscan/schema/wsdl/scan.wsdl" in names
    assert "wsdscan/schema/codegen.toml" in names
    assert any(n.startswith("wsdscan/codegen/templates/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


def test_wheel_has_the_profiles_and_the_pytest_plugin(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel_from_tree"]) as archive:
        names = set(archive.namelist())
        entry_points = next(
            archive.read(n).decode() for n in names if n.endswith("/entry_points.txt")
        )
        shipped = archive.read(
            "wsdscan/virtual/profiles/kyocera-m2040dn/GetScannerElementsResponse.xml"
        )
    assert "wsdscan/virtual/profiles/kyocera-m2040dn/PROVENANCE.md" in names
    tree = (
        ROOT / "wsdscan/virtual/profiles/kyocera-m2040dn/GetScannerElementsResponse.xml"
    )
    assert shipped == tree.read_bytes()  # byte for byte, as in the corpus
    assert "wsdscan.testing" in names or "wsdscan/testing.py" in names
    assert "[pytest11]\nwsdscan = wsdscan.testing" in entry_points


def test_sdist_carries_what_building_and_testing_need(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    needed = [
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "pyproject.toml",
        "setup.py",
        ".ci/run",
        "schema/wsdl/scan.wsdl",
        "generated/models/scan.py",
        "tests/conftest.py",
        "benchmarks/mtom.py",
    ]
    assert [n for n in needed if n not in names] == []
    # Every file of the project's own folders is there, data and helpers included.
    for folder in ("schema", "generated", "tests", "benchmarks", "codegen", "runtime"):
        tracked = [
            p.as_posix()
            for p in _project_files()
            if p.parts[0] == folder and (ROOT / p).is_file()
        ]
        assert [p for p in tracked if p not in names] == [], folder
    assert not [n for n in names if "__pycache__" in n or n.startswith(".venv/")]


def test_installed_schema_is_found_as_a_resource() -> None:
    schema = resources.files("wsdscan.schema")
    assert schema.joinpath("wsdl", "scan.wsdl").is_file()
    assert schema.joinpath("codegen.toml").is_file()
    assert "ScannerServiceType" in schema.joinpath("wsdl", "scan.wsdl").read_text()


def test_every_module_of_the_installed_package_imports(tmp_path: Path) -> None:
    """From an empty folder (nothing of the checkout on sys.path), as a user's program."""
    program = (
        "import importlib, pkgutil\n"
        f"tops = {sorted(FOLDERS.values())!r}\n"
        "names = set(tops)\n"
        "for top in tops:\n"
        "    package = importlib.import_module(top)\n"
        "    names |= {m.name for m in pkgutil.walk_packages(package.__path__, top + '.')}\n"
        "for name in sorted(names):\n"
        "    if not name.endswith('__main__'):\n"
        "        importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 80  # every module of every subpackage was walked


def test_wsdscan_version(tmp_path: Path) -> None:
    import wsdscan

    done = subprocess.run(
        [sys.executable, "-P", "-m", "wsdscan", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wsdscan {wsdscan.__version__}"
