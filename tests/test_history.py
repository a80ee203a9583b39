"""History: one value per epoch in every list, whatever each epoch measured."""

import math
import tracemalloc

from mlpzero.history import History


def test_every_list_holds_one_value_per_epoch():
    history = History()
    history.append({"loss": 1.0})
    history.append({"loss": 0.9, "val_loss": 0.8})  # validation from the second epoch on
    history.append({"loss": 0.7})  # and not in the third
    assert history["loss"] == [1.0, 0.9, 0.7]
    assert [math.isnan(v) for v in history["val_loss"]] == [True, False, True]
    assert history["val_loss"][1] == 0.8
    assert history.last_epoch() == {"loss": 0.7}


def test_an_epoch_without_a_metric_costs_no_copy_of_the_history():
    # Padding the missing metric must not build a list as long as the history each epoch,
    # which would make a long fit quadratic.
    history = History()
    history.history = {"loss": [0.5] * 1_000_000, "val_loss": [0.4] * 1_000_000}
    history.append({"loss": 0.5})  # each list grows its room once, as lists do
    tracemalloc.start()
    try:
        for _ in range(10):
            history.append({"loss": 0.5})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    assert len(history["loss"]) == len(history["val_loss"]) == 1_000_011
