"""The notebook-global names a cell reads and writes, read with symtable (nothing is run)."""

from __future__ import annotations

import symtable


def global_names(source: str) -> tuple[list[str], set[str]]:
    """(the global names the cell reads, in order; the global names it assigns, imports or
    defines). A function's or a lambda's own parameters and locals are not global names; a
    global a nested scope reads is. Raises SyntaxError for code that is not Python."""
    module = symtable.symtable(source, "<cell>", "exec")
    written = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    read: list[str] = []

    def visit(table) -> None:
        for symbol in table.get_symbols():
            if symbol.is_global() and table is not module and symbol.is_assigned():
                written.add(symbol.get_name())  # `global x; x = ...` in a function
            if symbol.is_referenced() and (table is module or symbol.is_global()):
                read.append(symbol.get_name())
        for child in table.get_children():
            visit(child)

    visit(module)
    return list(dict.fromkeys(read)), written
