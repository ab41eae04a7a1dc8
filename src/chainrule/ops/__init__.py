"""chainrule's operations, one module per family. Each op's forward and gradient rules
stand side by side; see autograd/function.py for the rule signature."""
