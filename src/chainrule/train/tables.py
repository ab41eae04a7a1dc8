"""Plain-text tables for results shown in a terminal: right-aligned columns under a
header and a rule of dashes."""

__all__ = ["format_table"]


def format_table(header, rows):
    """`header`: column names; `rows`: lists of already formatted cells (str)."""
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h)
              for j, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)
