"""`python -m chainrule ...` is the `chainrule` command."""
from .cli import main

raise SystemExit(main())
