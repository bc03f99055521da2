"""``python -m wsdscan``."""

import sys

from .cli import main

sys.exit(main())
