"""Graph model, (de)serialisation, inference and diagnostics. Pure Python, no torch."""
from engine.graph.model import Edge, Graph, Node

__all__ = ["Edge", "Graph", "Node"]
