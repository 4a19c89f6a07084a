"""The blend of the model with each server's own daily rhythm (inference.seasonal): its pieces on
series whose answer is known, and the whole of it with a real (tiny) model."""
import numpy as np
import pytest
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from feeds.schema import METRICS
from inference import seasonal
from inference.model.features import TARGETS
from inference.seasonal import CANDIDATES, CYCLIC, DAY, SeasonalState
from inference.seasonal_state import load_states, save_states

H = 96
CPU = METRICS.index("cpu_idle_pct")


def rhythm(slots, level=40.0, amplitude=25.0):
    """CPU busy % with a daily cycle, for consecutive slots."""
    return level + amplitude * np.sin(2 * np.pi * (np.asarray(slots) % DAY) / DAY)


def test_a_state_survives_packing_and_redis(team_a):
    state = SeasonalState.new()
    state.profile[5] = [1.0, 2.0]
    state.profile_slot, state.skill_slot = 1234, 1200
    state.weights[1] = [0.1, 0.2, 0.3, 0.3, 0.1]
    again = SeasonalState.unpack(state.pack())
    assert (again.profile_slot, again.skill_slot) == (1234, 1200)
    np.testing.assert_array_equal(again.profile, state.profile)
    np.testing.assert_array_equal(again.weights, state.weights)
    save_states(team_a.team.id, ["a"], [state])
    [loaded, fresh] = load_states(team_a.team.id, ["a", "never-seen"])
    np.testing.assert_array_equal(loaded.profile, state.profile)
    assert fresh.profile_slot == -1 and fresh.weights[:, 0].tolist() == [1.0] * len(CYCLIC)


def test_an_unreadable_state_starts_afresh(team_a, redis_client):
    from core import keys

    redis_client.set(keys.team(team_a.team.id).seasonal("a"), b"garbage")
    [state] = load_states(team_a.team.id, ["a"])
    assert state.profile_slot == -1


def test_the_profile_weighs_each_new_day_by_alpha_and_skips_gaps():
    profile = np.full((DAY, 1), np.nan, np.float32)
    days = np.concatenate([np.full(DAY, 10.0), np.full(DAY, 20.0)])[:, None]
    days[DAY + 7] = np.nan
    out = seasonal.fold_profile(profile, days, np.arange(2 * DAY))
    assert out[0, 0] == pytest.approx(10 + seasonal.PROFILE_ALPHA * 10)
    assert out[7, 0] == 10.0  # the gap left yesterday's value alone


def test_on_a_server_that_repeats_its_days_every_own_forecast_is_right():
    slots = np.arange(3 * DAY)
    history = rhythm(slots)[:, None]
    profile = seasonal.fold_profile(np.full((DAY, 1), np.nan), history[:2 * DAY], slots[:2 * DAY])
    own = seasonal.own_forecasts(history, int(slots[-1]), profile, H)
    truth = rhythm(slots[-1] + np.arange(1, H + 1))
    assert own.shape == (4, H, 1)
    np.testing.assert_allclose(own[0, :, 0], truth, atol=1e-9)  # seasonal naive
    np.testing.assert_allclose(own[2, :, 0], truth, atol=1e-6)  # daily profile
    assert np.abs(own[1, :, 0] - truth).max() < 1.0  # smoothed over an hour: close
    assert np.allclose(own[3, :, 0], np.median(history[-12:]))  # recent median


def test_weights_follow_skill_and_a_candidate_without_a_backtest_gets_none():
    errors = np.array([[1.0, 2.0, np.nan, 1.0, 4.0]])
    weights = seasonal.skill_weights(errors)[0]
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] == weights[3] > weights[1] > weights[4] > 0 and weights[2] == 0
    assert weights[1] / weights[0] == pytest.approx(2.0 ** -seasonal.SKILL_POWER)
    assert seasonal.skill_weights(np.full((1, len(CANDIDATES)), np.nan))[0].tolist() == [1, 0, 0, 0, 0]


def test_the_band_is_scaled_until_it_holds_the_asked_share_of_actuals():
    rng = np.random.default_rng(0)
    actual = rng.normal(0, 2.0, 10_000)
    centre, low, high = np.zeros(10_000), np.full(10_000, -1.0), np.full(10_000, 1.0)
    scale = seasonal.band_scale(actual, centre, low, high)
    inside = np.mean(np.abs(actual) <= scale)
    assert inside == pytest.approx(seasonal.COVERAGE, abs=0.01) and scale > 1  # the model's band was too narrow


def served_and_model(tiny_model, values, end_slots, states):
    served = seasonal.forecast(tiny_model, values, end_slots, ["generic"] * len(values), states)
    model = tiny_model.predict(values, end_slots * 300, ["generic"] * len(values))
    return served, model


def test_a_server_that_repeats_its_days_is_served_its_yesterday(tiny_model):
    """The tiny model knows nothing of this server; its own days do, and the blend follows them."""
    W, n = seasonal.WINDOW_SLOTS, 2
    end = 100 * DAY + 140
    slots = end - np.arange(W - 1, -1, -1)
    values = np.tile(np.array([20, 5, 1, 74, 0, 50, 0, 40, 1, 1, 0, 0, 1, 30], np.float32), (n, W, 1))
    values[:, :, CPU] = 100 - rhythm(slots)  # idle
    states = [SeasonalState.new() for _ in range(n)]
    served, model = served_and_model(tiny_model, values, np.full(n, end), states)
    truth = rhythm(end + np.arange(1, H + 1))
    cpu = TARGETS.index("cpu_pct")
    served_error = np.abs(served[0, :, cpu, 1] - truth).mean()
    assert served_error < 1.0 < np.abs(model[0, :, cpu, 1] - truth).mean()
    assert states[0].skill_slot == end and states[0].profile_slot == end - DAY
    assert states[0].weights[0, 0] < 0.01  # the model's own forecast hardly counts here
    # slow metrics keep the model's forecast
    mem = TARGETS.index("mem_used_pct")
    np.testing.assert_array_equal(served[:, :, mem], model[:, :, mem])
    assert (served[:, :, cpu, 0] <= served[:, :, cpu, 1]).all() and (served[:, :, cpu, 1] <= served[:, :, cpu, 2]).all()


def test_weights_are_refreshed_only_after_an_hour_of_new_data(tiny_model):
    W = seasonal.WINDOW_SLOTS
    values = np.full((1, W, len(METRICS)), 10.0, np.float32)
    state = SeasonalState.new()
    seasonal.forecast(tiny_model, values, np.array([50 * DAY]), ["generic"], [state])
    assert state.skill_slot == 50 * DAY
    seasonal.forecast(tiny_model, values, np.array([50 * DAY + 11]), ["generic"], [state])
    assert state.skill_slot == 50 * DAY
    seasonal.forecast(tiny_model, values, np.array([50 * DAY + 12]), ["generic"], [state])
    assert state.skill_slot == 50 * DAY + 12


def test_a_new_server_gets_the_models_forecast_until_something_else_was_tested(tiny_model):
    W = seasonal.WINDOW_SLOTS
    values = np.full((1, W, len(METRICS)), np.nan, np.float32)
    values[0, -20:] = 10.0 + np.arange(20)[:, None] % 7  # 100 minutes: no 8-hour backtest yet
    served, model = served_and_model(tiny_model, values, np.array([7 * DAY]), [SeasonalState.new()])
    np.testing.assert_allclose(served[..., 1], model[..., 1], atol=1e-5)
    ordered = (model[..., 0] <= model[..., 1]) & (model[..., 1] <= model[..., 2])  # a barely trained model's may cross
    np.testing.assert_allclose(served[ordered], model[ordered], atol=1e-5)


def test_with_a_window_of_one_day_the_model_is_served_alone(tiny_model):
    """ARGUS_WINDOW_SLOTS=288 saves Redis memory; the blend then has no yesterday to use."""
    values = np.full((1, DAY, len(METRICS)), 10.0, np.float32)
    values[0, :, CPU] = 100 - rhythm(np.arange(DAY))
    state = SeasonalState.new()
    served, model = served_and_model(tiny_model, values, np.array([9 * DAY]), [state])
    np.testing.assert_array_equal(served, model)
    assert state.skill_slot == -1  # nothing was backtested
