"""The model adapter: fast path vs pytorch-forecasting, save/load, short histories, new servers."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from model_fixtures import REPO, fleet_inputs, tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from feeds.schema import METRICS
from inference.model.features import TARGETS, clip_to_ranges
from inference.model.reference import predict_with_library
from inference.model.spec import CENTRE_SLOTS, HORIZON, ModelLoadError
from inference.model.storage import load_forecaster


def test_the_fast_path_returns_the_same_numbers_as_pytorch_forecastings_predict(
        tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    values = values.copy()
    values[1, :-38] = np.nan  # a server with 38 points of history
    values[2, -188:-178, :] = np.nan  # a gap of 50 minutes in the encoder
    values[2, -400:-380, :] = np.nan  # and one in the day before it
    values[3, -238:-228, METRICS.index("mem_used_pct")] = np.nan  # one metric missing for a while
    values[4, :-12] = np.nan  # exactly 12 points
    values[5, :-400] = np.nan  # less than two days: part of its yesterday is its first day
    profiles = list(profiles)
    profiles[0] = "a_profile_never_seen"
    fast = tiny_model.predict(values, end_times, profiles, chunk_size=4)
    library = predict_with_library(tiny_model, values, end_times, profiles)
    assert fast.shape == library.shape == (len(values), HORIZON, 6, 3)
    assert np.isfinite(fast).all()
    # float32 arithmetic in another order: a server with 12 points has a tiny window spread,
    # which magnifies rounding in its normalised inputs
    np.testing.assert_allclose(fast, library, rtol=1e-4, atol=1e-4)


def test_chunk_size_does_not_change_the_forecasts(tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    values = values.copy()
    values[0, :200] = np.nan
    one_chunk = tiny_model.predict(values, end_times, profiles, chunk_size=128)
    small_chunks = tiny_model.predict(values, end_times, profiles, chunk_size=2)
    np.testing.assert_allclose(one_chunk, small_chunks, rtol=0, atol=1e-4)


def test_forecasts_are_in_natural_units_with_the_documented_shape(tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    out = tiny_model.predict(values, end_times, profiles)
    assert out.dtype == np.float32
    assert out.shape == (len(values), tiny_model.horizon, len(tiny_model.targets),
                         len(tiny_model.quantiles))
    # Per-window normalisation: medians sit near each server's own recent level, not a fleet mean.
    disk = values[:, :, METRICS.index("disk_usage_pct")]
    median_disk = out[:, :, tiny_model.targets.index("disk_usage_pct"), 1]
    assert np.all(np.abs(median_disk.mean(axis=1) - disk[:, -12:].mean(axis=1)) < 5)


def test_a_server_with_twelve_points_gets_a_forecast_and_eleven_is_insufficient(
        tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    values = values[:3].copy()
    values[0, :-12] = np.nan
    values[1, :-11] = np.nan
    assert tiny_model.history_ok(values).tolist() == [True, False, True]
    out = tiny_model.predict(values, end_times[:3], profiles[:3])
    assert np.isfinite(out[0]).all()
    assert np.isnan(out[1]).all()
    assert np.isfinite(out[2]).all()


def test_a_fleet_with_no_history_at_all_returns_only_nan(tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    out = tiny_model.predict(np.full((2, 5, 14), np.nan, np.float32), end_times[:2], profiles[:2])
    assert out.shape == (2, HORIZON, 6, 3) and np.isnan(out).all()


def test_every_profile_it_never_saw_is_forecast_as_the_one_unknown_profile(tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    # Any unknown profile is encoded as "unknown": a finite forecast, the same for every such name.
    # (Server names are no input at all: tests/test_runner.py checks a renamed server.)
    out = tiny_model.predict(values[:2], end_times[:2], ["brand_new_profile", profiles[1]])
    assert np.isfinite(out).all()
    again = tiny_model.predict(values[:2], end_times[:2], ["another_unknown", profiles[1]])
    np.testing.assert_array_equal(out, again)


def test_a_saved_model_predicts_the_same_after_loading_in_a_fresh_process(
        tiny_model_dir, tiny_model, fleet_inputs, tmp_path):
    values, end_times, profiles = fleet_inputs
    np.savez(tmp_path / "inputs.npz", values=values, end_times=end_times,
             profiles=np.array(profiles))
    script = textwrap.dedent(f"""
        import numpy as np, torch
        torch.set_num_threads(1)
        from inference.model.storage import load_forecaster
        d = np.load({str(tmp_path / 'inputs.npz')!r})
        fc = load_forecaster({str(tiny_model_dir)!r}, device="cpu")
        out = fc.predict(d["values"], d["end_times"], [str(p) for p in d["profiles"]])
        np.save({str(tmp_path / 'out.npy')!r}, out)
        print(fc.version)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == tiny_model.version
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"),
                                  tiny_model.predict(values, end_times, profiles))


def test_the_model_directory_describes_itself(tiny_model_dir, tiny_model):
    manifest = json.loads((tiny_model_dir / "manifest.json").read_text())
    # trained, by default, with the mixed loss (inference/model/losses.py)
    assert manifest["training"]["config"]["loss"] == "mixed"
    assert [type(m).__name__ for m in tiny_model.network.loss.metrics] == ["ScaledQuantileLoss"] * 6
    assert {m.natural_weight for m in tiny_model.network.loss.metrics} == {0.2}
    assert manifest["format"] == "argus-tft"
    assert manifest["version"].startswith("tft-")
    assert manifest["features"]["targets"][0] == "cpu_pct"
    assert manifest["input_metrics"] == list(METRICS)
    assert manifest["training"]["purpose"] == "tests"
    assert "series" in manifest["training"] and "seconds" in manifest["training"]
    assert set(json.loads((tiny_model_dir / "normalisers.json").read_text())) == {
        "reals", "profile_codes"}


def test_the_model_reads_each_metrics_value_a_day_earlier_and_nothing_older(tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    assert sorted(tiny_model.lagged.values()) == sorted(TARGETS)
    assert tiny_model.history_slots == 2 * 288
    base = tiny_model.predict(values, end_times, profiles)
    # the day before the encoder (slots -576..-289) feeds the lagged inputs
    changed = values.copy()
    changed[:, -576:-288, METRICS.index("cpu_idle_pct")] -= 30
    assert np.abs(tiny_model.predict(changed, end_times, profiles) - base).max() > 1e-3
    # anything older is read by no input
    older = values.copy()
    older[:, :-576] = np.nan
    np.testing.assert_array_equal(tiny_model.predict(older, end_times, profiles), base)


def test_noisy_targets_are_centred_on_their_last_hour_and_slow_ones_on_their_last_value(tiny_model):
    assert tiny_model.centre_slots == CENTRE_SLOTS
    assert CENTRE_SLOTS["cpu_pct"] == CENTRE_SLOTS["load_average"] == 12
    assert CENTRE_SLOTS["mem_used_pct"] == CENTRE_SLOTS["swap_used_pct"] == 1


def _copy_model(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_a_missing_directory_raises_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_forecaster(tmp_path / "nope")


def test_a_truncated_checkpoint_raises_model_load_error(tiny_model_dir, tmp_path):
    bad = _copy_model(tiny_model_dir, tmp_path / "bad")
    data = (bad / "model.ckpt").read_bytes()
    (bad / "model.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_forecaster(bad)


def test_a_checkpoint_that_is_not_a_model_raises_model_load_error(tiny_model_dir, tmp_path):
    bad = _copy_model(tiny_model_dir, tmp_path / "bad")
    (bad / "model.ckpt").write_bytes(b"not a checkpoint at all")
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["checkpoint"]["sha256"] = None  # so the checksum does not catch it first
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="cannot load"):
        load_forecaster(bad)


def test_a_garbled_manifest_raises_model_load_error(tiny_model_dir, tmp_path):
    bad = _copy_model(tiny_model_dir, tmp_path / "bad")
    (bad / "manifest.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_forecaster(bad)


def test_a_model_from_an_incompatible_format_version_raises_model_load_error(
        tiny_model_dir, tmp_path):
    bad = _copy_model(tiny_model_dir, tmp_path / "bad")
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["format_version"] = 99
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="format version 99"):
        load_forecaster(bad)


def test_a_model_with_a_different_horizon_raises_model_load_error(tiny_model_dir, tmp_path):
    bad = _copy_model(tiny_model_dir, tmp_path / "bad")
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["horizon"] = 48
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="horizon"):
        load_forecaster(bad)


def _model_dir_setting(env):
    script = "import django; django.setup(); from django.conf import settings; print(settings.ARGUS_MODEL_DIR)"
    env = {**{k: v for k, v in os.environ.items() if k != "ARGUS_MODEL_DIR"}, **env,
           "DJANGO_SETTINGS_MODULE": "argus_project.settings"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_argus_model_dir_overrides_the_shipped_model(tmp_path):
    assert _model_dir_setting({}) == str(REPO / "inference" / "default_model")
    assert _model_dir_setting({"ARGUS_MODEL_DIR": str(tmp_path)}) == str(tmp_path)


def test_a_worker_loads_the_model_its_settings_name(settings, tiny_model_dir, tiny_model, monkeypatch):
    from inference import worker

    monkeypatch.setattr(worker, "_forecaster", None)
    settings.ARGUS_MODEL_DIR = tiny_model_dir
    settings.ARGUS_DEVICE = "cpu"
    assert worker.get_forecaster().version == tiny_model.version


def test_the_shipped_default_model_loads_and_forecasts(fleet_inputs, settings):
    size = sum(f.stat().st_size for f in settings.ARGUS_MODEL_DIR.iterdir())
    assert size <= 10 * 1024 * 1024
    fc = load_forecaster(settings.ARGUS_MODEL_DIR, device="cpu")
    values, end_times, profiles = fleet_inputs
    out = fc.predict(values, end_times, profiles)
    assert np.isfinite(out).all()
    assert fc.training["simulated"]["servers"] > 0


def test_forecasts_are_clipped_to_each_metrics_physical_range():
    forecasts = np.full((1, 2, len(TARGETS), 3), -3.0, dtype=np.float32)
    forecasts[0, 1] = 130.0
    forecasts[0, 0, 0, 0] = np.nan
    out = clip_to_ranges(forecasts)
    load = TARGETS.index("load_average")
    assert np.isnan(out[0, 0, 0, 0]) and np.nanmin(out) == 0.0  # no negative percentage or load
    assert out[0, 1, load, 1] == 130.0  # load has no ceiling
    assert np.all(np.delete(out[0, 1], load, axis=0) == 100.0)  # percentages stop at 100


def _tiny_config(**overrides):
    from inference.model.training import TrainConfig

    return TrainConfig(**{**dict(epochs=1, batches_per_epoch=1, batch_size=16, val_steps=288, val_stride=48,
                                 hidden_size=8, hidden_continuous_size=4, attention_head_size=1,
                                 progress=False, seed=1), **overrides})


def test_training_can_start_from_a_trained_models_weights(tiny_model, tiny_fleet):
    from inference.model.training import Series, train_forecaster
    from inference.series_io import records_to_series

    series = [Series.of(s) for s in records_to_series(tiny_fleet[0])]
    # one batch at a negligible learning rate: the weights stay where they started
    started = train_forecaster(series, _tiny_config(learning_rate=1e-9), init=tiny_model).forecaster
    fresh = train_forecaster(series, _tiny_config(learning_rate=1e-9)).forecaster

    def distance(a, b):
        sa, sb = a.network.state_dict(), b.network.state_dict()
        return max(float((sa[k] - sb[k]).abs().max()) for k in sa)

    assert distance(started, tiny_model) < 1e-4
    assert distance(fresh, tiny_model) > 1e-2


def test_starting_from_a_model_of_another_size_is_refused_plainly(tiny_model, tiny_fleet):
    from inference.model.training import Series, train_forecaster
    from inference.series_io import records_to_series

    series = [Series.of(s) for s in records_to_series(tiny_fleet[0])]
    with pytest.raises(ValueError, match="cannot start from model"):
        train_forecaster(series, _tiny_config(hidden_size=12, hidden_continuous_size=6), init=tiny_model)


def test_the_shipped_model_reads_yesterday_and_forecasts(fleet_inputs):
    fc = load_forecaster(REPO / "inference" / "default_model", device="cpu")
    assert fc.manifest["format_version"] == 3 and sorted(fc.lagged.values()) == sorted(TARGETS)
    values, end_times, profiles = fleet_inputs
    assert np.isfinite(fc.predict(values, end_times, profiles)).all()


def test_a_format_2_model_still_loads_and_forecasts_without_lagged_inputs(fleet_inputs):
    fc = load_forecaster(REPO / "tests" / "data" / "model_format2", device="cpu")
    assert fc.manifest["format_version"] == 2 and fc.lagged == {}
    assert fc.history_slots == fc.max_encoder  # no day before the encoder to read
    values, end_times, profiles = fleet_inputs
    assert np.isfinite(fc.predict(values, end_times, profiles)).all()
