"""What a subject's requests carry for each condition key, and the evaluator over them
(bridge/condition_eval.py; docs/conditions.md)."""

from ..condition_eval import Absent, Exact, Matching, OneOf, Outcome, evaluate, problems

__all__ = ["Absent", "Exact", "Matching", "OneOf", "Outcome", "evaluate", "problems"]
