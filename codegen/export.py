"""``export-schema``: copy the shipped schema into a project's folder, to keep and extend.

Standard library only, like ``locations``: exporting needs no ``[codegen]`` extra.
"""

from __future__ import annotations

from pathlib import Path

from .errors import CodegenError
from .locations import protected_dir

# The package's Python side, not schema data.
_SKIPPED_NAMES = frozenset({"__init__.py", "__pycache__"})
_SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})


def schema_files(schema_dir: Path) -> tuple[str, ...]:
    """The data files of a schema folder (XSD, WSDL, TOML, notes), relative and sorted."""
    return tuple(
        sorted(
            path.relative_to(schema_dir).as_posix()
            for path in schema_dir.rglob("*")
            if path.is_file()
            and not _SKIPPED_NAMES & set(path.relative_to(schema_dir).parts)
            and path.suffix not in _SKIPPED_SUFFIXES
        )
    )


def export_schema(
    schema_dir: Path, dest: Path, *, force: bool = False
) -> tuple[str, ...]:
    """Copy every schema file below ``schema_dir`` into ``dest``, keeping the folders.

    ``dest`` must be empty or absent unless ``force`` (then files of the same name are
    overwritten and others are left alone). Returns the copied paths, relative.
    """
    folder = protected_dir(dest)
    if folder is not None:
        raise CodegenError(
            f"refusing to write into installed packages ({folder}): {dest}"
        )
    if dest.exists() and not dest.is_dir():
        raise CodegenError(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise CodegenError(f"{dest} is not empty; pass --force to overwrite its files")
    files = schema_files(schema_dir)
    if not files:
        raise CodegenError(f"no schema files below {schema_dir}")
    for relative in files:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((schema_dir / relative).read_bytes())
    return files
