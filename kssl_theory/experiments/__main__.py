"""``python -m kssl_theory.experiments NAME``."""

from . import main

raise SystemExit(main())
