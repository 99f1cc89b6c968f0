"""Reading generated scripts in tests: what code they run, and which literals they hold."""

from __future__ import annotations

import ast


def shape(source: str) -> str:
    """The script's AST with every str/bytes/int constant blanked: what code it runs."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (str, bytes, int):
            node.value = None
    return ast.dump(tree)


def constants(source: str) -> list[object]:
    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)]


def header_is_comments(source: str) -> bool:
    """Everything before the first import is comment lines."""
    head = source.split("\nfrom ", 1)[0]
    return all(line.startswith("#") for line in head.splitlines())
