"""Package discovery for wsdscan's one import namespace; the metadata is in pyproject.toml.

The top-level folders are subpackages of ``wsdscan``: ``runtime/`` is ``wsdscan.runtime``,
``codegen/`` is ``wsdscan.codegen``, and so on. setuptools' ``packages.find`` cannot put
a prefix on what it finds, so every folder is walked here: a new subpackage is picked up
without an entry anywhere.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "wsdscan": "wsdscan",
    "wsdscan.codegen": "codegen",
    "wsdscan.generated": "generated",
    "wsdscan.runtime": "runtime",
    "wsdscan.schema": "schema",
}


def _packages() -> list[str]:
    found = []
    for package, folder in FOLDERS.items():
        found.append(package)
        found += [f"{package}.{sub}" for sub in find_packages(folder)]
    return sorted(found)


setup(package_dir=FOLDERS, packages=_packages())
