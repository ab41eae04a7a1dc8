"""`python -m chainrule.cli ...` is the `chainrule` command."""
from . import main

raise SystemExit(main())
