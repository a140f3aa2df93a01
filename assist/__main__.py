"""``python -m assist`` is the same as the ``assist`` command."""
from assist.cli import main

raise SystemExit(main())
