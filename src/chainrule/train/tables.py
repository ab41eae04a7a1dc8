"""Plain-text tables for results shown in a terminal (training histories, searches,
K-fold results, gradient norms, model summaries): columns as wide as their widest cell
under a header and a rule."""

__all__ = ["format_table"]


def format_table(header, rows, align=None, sep="  ", rule="-"):
    """`header`: column names; `rows`: lists of already formatted cells (str). `align`:
    'l' or 'r' per column (default all 'r', as numbers read best); `sep`: the gap between
    columns; `rule`: the character of the line under the header, drawn under each column
    (None: no line)."""
    align = align or "r" * len(header)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"format_table: align must give 'l' or 'r' for each of the "
                         f"{len(header)} columns, got {align!r}")
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h)
              for j, h in enumerate(header)]

    def line(cells):
        return sep.join(c.ljust(w) if a == "l" else c.rjust(w)
                        for c, w, a in zip(cells, widths, align)).rstrip()

    lines = [line(header)] + ([sep.join(rule * w for w in widths)] if rule else [])
    return "\n".join(lines + [line(r) for r in rows])
