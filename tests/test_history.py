"""History: one value per epoch in every list, whatever each epoch measured."""

import math
import pickle
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


def test_a_history_pickled_with_shorter_lists_is_unpickled_one_value_per_epoch():
    # Pickled before every list held one value per epoch: 3 epochs without validation
    # data, then 2 with it, kept val_loss as 2 values. The next epoch must be its fourth.
    history = History()
    history.history = {"loss": [1.0, 0.9, 0.8, 0.7, 0.6], "val_loss": [0.5, 0.4]}
    copy = pickle.loads(pickle.dumps(history))
    assert len(copy["val_loss"]) == 5 and copy["val_loss"][3:] == [0.5, 0.4]
    assert all(math.isnan(v) for v in copy["val_loss"][:3])
    copy.append({"loss": 0.5, "val_loss": 0.3})
    assert copy["val_loss"][5] == 0.3 and copy.best_epoch() == 5


def test_a_history_pickled_before_diagnostics_existed_takes_records():
    """A history pickled by 0.1.0 holds no ``diagnostics``: unpickled, its notebook view
    and a Diagnostics callback failed with "'History' object has no attribute
    'diagnostics'"."""
    history = History()
    history.history = {"loss": [1.0, 0.9]}
    del history.diagnostics  # as 0.1.0 pickled it
    copy = pickle.loads(pickle.dumps(history))
    assert copy.diagnostics == {}
    assert "History: 2 epochs" in copy._repr_html_()
    copy.append_diagnostics({"step": 1, "gradient_norm": [0.5]})
    assert copy.diagnostics["step"] == [1]


def test_the_notebook_view_of_a_history_before_any_epoch():
    # A new model's history, shown in a notebook, raised "monitor=None watches
    # 'val_loss' or 'loss', and the logs have neither".
    view = History()._repr_html_()
    assert "History: 0 epochs</caption>" in view
    assert "best epoch" not in view.split("</caption>")[0]
