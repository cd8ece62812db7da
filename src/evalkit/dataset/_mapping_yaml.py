"""A mapping file's label keys as the user wrote them.

YAML 1.1 reads an unquoted ``Yes``/``No``/``On``/``Off`` as a boolean and ``2020`` or ``1.50`` as a number,
so ``labels: {Yes: approve}`` would reach the mapping as ``{True: 'approve'}``. A label key is text the
export holds, so each key is taken from the YAML source as written (``Yes``, ``1.50``), not as YAML typed it.
Label values stay typed: they are field values (``{Checked: true}``).
"""

from __future__ import annotations

from typing import Any

import yaml

_MERGE_TAG = "tag:yaml.org,2002:merge"


def labels_as_written(raw: Any, text: str) -> Any:
    """``raw`` (the loaded mapping) with every rule's ``labels`` keys, in ``fields:`` and in ``items:``, as the
    text ``text`` (its YAML source) writes them. Anything it cannot line up is left for validation to judge."""
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), dict):
        return raw
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return raw
    fields_node = _child(root, "fields")
    for target, rule in raw["fields"].items():
        _rule_as_written(rule, _child(fields_node, target))
    return raw


def _child(node: Any, key: Any) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None)


def _rule_as_written(rule: Any, node: Any) -> None:
    if not isinstance(rule, dict) or node is None:
        return
    labels, labels_node = rule.get("labels"), _child(node, "labels")
    if isinstance(labels, dict) and isinstance(labels_node, yaml.MappingNode):
        keys = labels_node.value
        # The loaded dict keeps the node's order (equal keys are refused, so none collapse); a merge key ('<<')
        # would break that order: then the keys are left as loaded.
        if len(keys) == len(labels) and all(isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG
                                            for k, _ in keys):
            rule["labels"] = {k.value: value for (k, _), value in zip(keys, labels.values())}
    items = rule.get("items")
    if isinstance(items, dict):
        for sub_target, sub_rule in items.items():
            _rule_as_written(sub_rule, _child(_child(node, "items"), sub_target))
