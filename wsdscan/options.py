"""The scan options a user names: sources, colour modes and file formats, as the WS-Scan
schema spells them. Standard library only: the CLI builds its parser from these without
loading the bindings."""

from __future__ import annotations

from typing import Final

SOURCES: Final = ("Platen", "ADF", "ADFDuplex")
COLOR_MODES: Final = ("BlackAndWhite1", "Grayscale8", "RGB24")
FORMATS: Final = ("png", "jfif")
