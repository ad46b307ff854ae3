"""Nested checkpoints: PyTorch's "general checkpoint" dicts in an ``.npz`` archive, without pickle.

``save({"epoch": 5, "model_state_dict": model.state_dict(), "optimizer_state_dict":
opt.state_dict(), "loss": 0.25}, path)`` is how PyTorch's tutorials save a run.  Such a dict
holds dicts, lists, tuples, numbers, strings and None around its arrays.  The arrays become the
archive's members ``tree.0``, ``tree.1``, …; everything else becomes one JSON document (member
``__tree__``, stored as uint8 bytes) that says where each array goes.  Loading rebuilds the same
structure: dict keys keep their type (``int`` keys of an optimiser's state stay ints), tuples
stay tuples, numbers stay Python numbers.  JSON is data, never code; a document that does not
describe exactly the archive's arrays is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

TREE_MEMBER = "__tree__"
_PREFIX = "tree."


def is_nested(obj) -> bool:
    """Whether a mapping to save needs the nested layout (some value is not an array or a number)."""
    return any(isinstance(v, (Mapping, list, tuple, str)) or v is None for v in obj.values())


def flatten(obj, to_array) -> dict:
    """``{member: array}`` for the archive: the arrays of ``obj``, and the JSON of the rest."""
    arrays = {}

    def encode(value, where):
        if isinstance(value, Mapping):
            items = []
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"checkpoint: dict keys must be str or int, got {key!r} at {where}")
                items.append([key, encode(item, f"{where}[{key!r}]")])
            return {"d": items}
        if isinstance(value, (list, tuple)):
            return {"t" if isinstance(value, tuple) else "l": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if value is None or isinstance(value, (bool, str)):
            return {"v": value}
        if isinstance(value, (int, float)):
            return {"v": value}
        name = f"{_PREFIX}{len(arrays)}"
        arrays[name] = to_array(where, value)
        return {"a": name}

    document = json.dumps(encode(obj, "checkpoint"), allow_nan=True)
    arrays[TREE_MEMBER] = np.frombuffer(document.encode("utf-8"), dtype=np.uint8)
    return arrays


def rebuild(members: dict, invalid):
    """The structure ``flatten`` saved, from the archive's ``members``; ``invalid(reason)`` makes
    the error to raise for a document that does not fit them."""
    raw = members.pop(TREE_MEMBER)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise invalid(f"{TREE_MEMBER} must be uint8 bytes")
    try:
        document = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise invalid(f"{TREE_MEMBER} is not a JSON document: {exc}") from None
    used = set()

    def decode(node):
        if not isinstance(node, dict) or len(node) != 1:
            raise invalid(f"{TREE_MEMBER}: unexpected node {str(node)[:80]}")
        (tag, body), = node.items()
        if tag == "d" and isinstance(body, list):
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                    raise invalid(f"{TREE_MEMBER}: a dict entry must be [key, value], got {str(pair)[:80]}")
                out[pair[0]] = decode(pair[1])
            return out
        if tag in ("l", "t") and isinstance(body, list):
            items = [decode(v) for v in body]
            return tuple(items) if tag == "t" else items
        if tag == "v" and (body is None or isinstance(body, (bool, int, float, str))):
            return body
        if tag == "a" and isinstance(body, str) and body in members and body not in used:
            used.add(body)
            return members[body]
        raise invalid(f"{TREE_MEMBER}: unexpected node {str(node)[:80]}")

    try:
        tree = decode(document)
    except RecursionError:
        raise invalid(f"{TREE_MEMBER} is nested too deeply") from None
    left = sorted(set(members) - used)
    if left:
        raise invalid(f"members {left[:5]} are not part of the {TREE_MEMBER} document")
    return tree
