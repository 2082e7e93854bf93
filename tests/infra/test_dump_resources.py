"""The dump diff names what changed: JSON text decoded, named list items by name."""

from __future__ import annotations

import json

from tests.infra.dump_resources import differences


def test_differences_decode_json_inputs_and_name_list_items() -> None:
    env = [{"name": "A", "value": "1"}]
    before = {"v": {"task": {"defs": json.dumps([{"name": "web", "environment": env}])}}}
    after = {
        "v": {
            "task": {
                "defs": json.dumps(
                    [{"name": "web", "environment": [*env, {"name": "B", "value": "2"}]}]
                )
            },
            "new": 1,
        }
    }
    assert differences(before, after) == [
        "+ /v/new: 1",
        '+ /v/task/defs/web/environment/B: {"name": "B", "value": "2"}',
    ]
    assert differences(after, after) == []
    assert differences({"x": [1, 2]}, {"x": [2, 1]}) == ["~ /x: [1, 2] -> [2, 1]"]
