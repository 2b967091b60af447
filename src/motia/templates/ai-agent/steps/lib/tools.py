"""The tools the planner can call. Each runs in its own step (`steps/tools/`); these are
the plain functions behind them, so tests and other steps can call them too."""

import ast
import operator
from collections.abc import Callable

# A small built-in knowledge table for `lookup`: topic → one sentence.
KNOWLEDGE = {
    "eiffel tower": "The Eiffel Tower in Paris is 330 metres tall.",
    "mount everest": "Mount Everest is 8,849 metres high.",
    "speed of light": "Light travels 299,792 kilometres per second in a vacuum.",
    "python": "Python is a programming language first released in 1991.",
    "motia": "Motia is a backend framework in which every piece of logic is a step.",
}

TOOLS = ("calculator", "lookup")
# The calculator refuses larger results (huge integers are slow to build and to print).
LARGEST = 1e100


class ToolError(Exception):
    """A tool cannot answer this input (a result for the agent, not a crash to retry)."""


_OPERATORS: dict[type, Callable[..., float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def calculator(expression: str) -> str:
    """Arithmetic on numbers with + - * / ** and parentheses; nothing else is evaluated."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ToolError(f"not an arithmetic expression: {expression}") from error
    value = _evaluate(tree.body)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _evaluate(node: ast.expr) -> float:
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ToolError("exponent too large")
        try:
            result = _OPERATORS[type(node.op)](left, right)
        except ZeroDivisionError as error:
            raise ToolError("division by zero") from error
        except OverflowError as error:
            raise ToolError("the result is too large") from error
        if isinstance(result, complex):  # (-8) ** 0.5
            raise ToolError("there is no real result")
        if abs(result) > LARGEST:
            raise ToolError("the result is too large")
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ToolError(f"only numbers and + - * / ** are allowed, not {ast.unparse(node)}")


def lookup(topic: str) -> str:
    """The knowledge table's sentence about `topic`."""
    found = KNOWLEDGE.get(topic.strip().lower())
    if found is None:
        raise ToolError(f"nothing known about {topic!r}")
    return found
