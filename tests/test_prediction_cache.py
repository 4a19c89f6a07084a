"""The prediction cache: what workers may write, how long it lives, what a read sees."""
import json

import pytest

from inference import cache


def document(tick=1, **fields):
    return {"tick": tick, "generated_at": 1.0, "model": {"version": "m"}, "predictions": {}, **fields}


def test_it_refuses_to_store_a_non_finite_number_and_keeps_nothing(team_a):
    with pytest.raises(ValueError):
        cache.store_predictions(team_a.team.id, document(fleet_health=float("inf")), {"tick": 1, "alerts": []})
    assert cache.predictions_json(team_a.team.id) is None
    assert cache.prediction_meta(team_a.team.id) is None


def test_a_stored_document_is_valid_json(team_a):
    cache.store_predictions(team_a.team.id, document(fleet_health=99.5), {"tick": 1, "count": 0, "alerts": []})
    assert json.loads(cache.predictions_json(team_a.team.id))["fleet_health"] == 99.5
