"""``python -m wsdscan.codegen``."""

import sys

from .cli import main

sys.exit(main())
