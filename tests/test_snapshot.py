"""ParameterSnapshot, OptimizerSnapshot and rollback_on_error: one copy out, one copy back."""

import numpy as np
import pytest

from mlpzero.optimizers import SGD
from mlpzero.snapshot import OptimizerSnapshot, ParameterSnapshot, rollback_on_error


def test_take_and_restore_in_place_reusing_one_buffer():
    params = np.arange(5, dtype=np.float32)
    view = params[1:3]
    snapshot = ParameterSnapshot()
    assert not snapshot.taken
    snapshot.take(params)
    buffer = snapshot.values
    params *= 10
    snapshot.take(params)
    assert snapshot.values is buffer  # taken again without allocating
    params += 1
    snapshot.restore(params)
    np.testing.assert_array_equal(params, np.arange(5) * 10)
    np.testing.assert_array_equal(view, [10, 20])  # restored in place: views see it
    assert buffer.dtype == np.float32


def test_a_snapshot_from_values_is_a_copy():
    values = np.ones(3)
    snapshot = ParameterSnapshot(values)
    values[0] = 5
    params = np.zeros(3)
    snapshot.restore(params)
    np.testing.assert_array_equal(params, [1, 1, 1])


def test_restore_refuses_an_empty_snapshot_or_another_size():
    with pytest.raises(RuntimeError, match="the snapshot is empty"):
        ParameterSnapshot().restore(np.zeros(2))
    with pytest.raises(ValueError, match=r"holds 2 float64 parameters of shape \(2,\) but params"):
        ParameterSnapshot(np.zeros(2)).restore(np.zeros(3))
    # It said "holds 2 parameters" of 2 x 2, failed with IndexError for a scalar, and
    # rounded float64 values into float32 parameters without a word.
    for values, params, held in (
        (np.zeros((2, 2)), np.zeros(4), r"4 float64 parameters of shape \(2, 2\)"),
        (np.float64(1.0), np.zeros(1), r"1 float64 parameters of shape \(\)"),
        (np.full(2, 0.1), np.zeros(2, np.float32), r"2 float64 .* and dtype float32"),
    ):
        params_before = params.copy()
        with pytest.raises(ValueError, match=held):
            ParameterSnapshot(values).restore(params)
        np.testing.assert_array_equal(params, params_before)
    snapshot = ParameterSnapshot(np.zeros(2))
    snapshot.clear()
    assert not snapshot.taken


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_rollback_on_error_restores_then_reraises(error):
    params = np.array([1.0, 2.0])
    with pytest.raises(error), rollback_on_error(params):
        params[...] = np.nan
        raise error("stop")
    np.testing.assert_array_equal(params, [1.0, 2.0])


def test_rollback_on_error_keeps_a_successful_block():
    params = np.array([1.0, 2.0])
    with rollback_on_error(params) as snapshot:
        params += 1
    np.testing.assert_array_equal(params, [2.0, 3.0])
    np.testing.assert_array_equal(snapshot.values, [1.0, 2.0])


def test_an_optimizer_snapshot_puts_back_the_step_count_and_every_buffer():
    """Taken before the first step, it removes the momentum buffer made since (its
    absence makes the next step start the velocity afresh); taken later, it writes the
    saved values back into the optimizer's own buffers."""
    params, grads = np.ones(4), np.full(4, 0.5)
    optimizer = SGD(learning_rate=0.1, momentum=0.9)
    before = OptimizerSnapshot()
    before.take(optimizer)
    optimizer.step(params, grads)
    later = OptimizerSnapshot()
    later.take(optimizer)
    buffer = optimizer.state["momentum_buffer"]
    saved = buffer.copy()
    optimizer.step(params, grads)
    later.restore(optimizer)
    assert optimizer.iterations == 1 and optimizer.state["momentum_buffer"] is buffer
    np.testing.assert_array_equal(buffer, saved)
    before.restore(optimizer)
    assert optimizer.iterations == 0 and optimizer.state == {}
    with pytest.raises(RuntimeError, match="empty"):
        OptimizerSnapshot().restore(optimizer)
