"""What resume= does with a finished run, with explicit fit settings and with a
checkpoint whose callback states do not fit the model: decided before the first epoch."""

import os
import re
import sys
import threading

import numpy as np
import pytest

import mlpzero
from conftest import blobs, read_model_file, write_model_file
from mlpzero import MLP
from mlpzero.callbacks import Callback, EarlyStopping, ModelCheckpoint
from mlpzero.checkpointing import data_signature, load_checkpoint
from mlpzero.optimizers import Adam
from mlpzero.preparation import check_data


class EpochCounter(Callback):
    def __init__(self):
        self.begun = []

    def on_epoch_begin(self, epoch, logs=None):
        self.begun.append(epoch)


def data():
    return blobs(n=80, classes=("a", "b", "c"), features=4, seed=3)


def stopping_run(path=None, resume=None, epochs=200, **options):
    X, y = data()
    stopping = EarlyStopping(patience=3, restore_best_weights=True)
    model = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=epochs, optimizer="adam", learning_rate=0.03, batch_size=16,
        validation_split=0.25, checkpoint=path, checkpoint_interval=0, resume=resume,
        callbacks=[stopping, *options.pop("extra", [])], **options,
    )  # fmt: skip
    return model, stopping


# ---------------------------------------------------------------------------- finished runs
def test_resuming_a_run_that_early_stopping_ended_is_a_no_op(tmp_path):
    path = tmp_path / "run.npz"
    finished, stopping = stopping_run(path)
    assert stopping.stopped_epoch is not None and finished.history.epochs < 200  # it stopped
    counter = EpochCounter()
    resumed, _ = stopping_run(path, resume=path, extra=[counter])
    assert counter.begun == []
    np.testing.assert_array_equal(resumed.network.params, finished.network.params)
    assert resumed.history.as_dict() == finished.history.as_dict()
    again = mlpzero.load(path)  # the checkpoint holds the finished model, best weights back
    np.testing.assert_array_equal(again.network.params, finished.network.params)


def test_a_run_given_epochs_until_a_callback_stops_it_resumes_from_its_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    epochs = sys.maxsize  # "until early stopping": fit takes any number of epochs
    finished, stopping = stopping_run(path, epochs=epochs)
    assert stopping.stopped_epoch is not None
    resumed, _ = stopping_run(path, resume=path, epochs=epochs)  # its own checkpoint reads back
    np.testing.assert_array_equal(resumed.network.params, finished.network.params)
    again, _ = stopping_run(path, epochs=epochs)  # and a new run may write over it
    np.testing.assert_array_equal(again.network.params, finished.network.params)


def test_a_run_finished_by_its_epochs_continues_only_when_asked_for_more(tmp_path):
    X, y = data()
    path = tmp_path / "run.npz"

    def run(epochs, **options):
        return MLP(hidden=(6,), seed=3).fit(X, y, epochs=epochs, checkpoint=path, **options)

    finished = run(4)
    same = run(4, resume=path)
    np.testing.assert_array_equal(same.network.params, finished.network.params)
    assert same.history.epochs == 4
    longer = run(7, resume=path)  # epochs is the total of the resumed fit
    reference = MLP(hidden=(6,), seed=3).fit(X, y, epochs=7)
    np.testing.assert_array_equal(longer.network.params, reference.network.params)


def test_a_finished_run_on_a_cosine_over_its_fit_is_not_continued(tmp_path):
    """A run that finished its epochs on ``schedule="cosine"`` (``total_epochs=None``) had
    its rates fall over those epochs; resumed to more, the rates jumped back up onto a
    longer cosine, unlike those of any uninterrupted run, without a word."""
    X, y = data()
    path = tmp_path / "run.npz"
    options = dict(optimizer="adam", learning_rate=0.01, batch_size=16, schedule="cosine")
    finished = MLP(hidden=(6,), seed=3).fit(X, y, epochs=4, checkpoint=path, **options)
    with pytest.raises(ValueError, match=r"finished its 4 epochs on a cosine schedule"):
        MLP(hidden=(6,), seed=3).fit(X, y, epochs=7, resume=path, **options)
    same = MLP(hidden=(6,), seed=3).fit(X, y, epochs=4, resume=path, **options)
    np.testing.assert_array_equal(same.network.params, finished.network.params)
    # with total_epochs given, the cosine does not end with the fit: the run continues
    fixed = dict(options, schedule={"name": "cosine", "total_epochs": 7})
    MLP(hidden=(6,), seed=3).fit(X, y, epochs=4, checkpoint=path, **fixed)
    longer = MLP(hidden=(6,), seed=3).fit(X, y, epochs=7, resume=path, **fixed)
    reference = MLP(hidden=(6,), seed=3).fit(X, y, epochs=7, **fixed)
    np.testing.assert_array_equal(longer.network.params, reference.network.params)


def test_an_interrupted_run_on_a_cosine_over_its_fit_resumes_only_to_its_epochs(tmp_path):
    """Interrupted after 3 of 6 epochs on ``schedule="cosine"`` (``total_epochs=None``) and
    resumed to another number of epochs, the rates went on along a cosine over that number,
    jumping back up (or falling faster), unlike those of any uninterrupted run."""
    X, y = data()
    path = tmp_path / "run.npz"
    options = dict(learning_rate=0.05, batch_size=16, schedule="cosine")
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, checkpoint=path, checkpoint_interval=0, callbacks=[StopAt(3)],
            **options,
        )  # fmt: skip
    for epochs in (4, 9):
        with pytest.raises(ValueError, match=r"interrupted after 3 of the epochs=6 its fit"):
            MLP(hidden=(6,), seed=3).fit(X, y, epochs=epochs, resume=path, **options)
    resumed = MLP(hidden=(6,), seed=3).fit(X, y, epochs=6, resume=path, **options)
    reference = MLP(hidden=(6,), seed=3).fit(X, y, epochs=6, **options)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)


def test_a_run_whose_end_restored_earlier_weights_is_not_continued(tmp_path):
    """The final checkpoint of a run that ran all its epochs holds the weights
    EarlyStopping put back at its end, beside the optimizer's and the callbacks' state of
    its last epoch. Asked for more epochs, a resume went on from that mixture: neither
    the run it resumed nor any uninterrupted run."""
    X, y = data()
    path = tmp_path / "run.npz"

    def run(epochs, **options):
        stopping = EarlyStopping(patience=50, restore_best_weights=True)
        return MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=epochs, optimizer="adam", learning_rate=0.3, batch_size=16,
            validation_split=0.25, checkpoint=path, callbacks=[stopping], **options,
        )  # fmt: skip

    finished = run(8)
    assert finished.history.best_epoch() < 7  # the end put back an earlier epoch's weights
    assert load_checkpoint(path).checkpoint.progress["finished"] == "restored"
    same = run(8, resume=path)
    np.testing.assert_array_equal(same.network.params, finished.network.params)
    model = MLP(hidden=(6,), seed=3)
    with pytest.raises(ValueError, match=r"finished its 8 epochs, and a callback .* resume "
                       r"with epochs=8 for the finished model, or load it"):  # fmt: skip
        model.fit(
            X, y, epochs=16, optimizer="adam", learning_rate=0.3, batch_size=16,
            validation_split=0.25, checkpoint=path, resume=path,
            callbacks=[EarlyStopping(patience=50, restore_best_weights=True)],
        )  # fmt: skip
    assert not model.built


# ---------------------------------------------------------------------------- explicit settings
class Stop(Exception):
    pass


class StopAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Stop


def interrupted(path, **model_options):
    X, y = data()
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3, **model_options).fit(
            X, y, epochs=6, learning_rate=0.05, batch_size=16, checkpoint=path,
            checkpoint_interval=0, callbacks=[StopAt(3)],
        )  # fmt: skip
    return X, y


def test_fewer_epochs_than_an_unfinished_run_has_done_are_refused(tmp_path):
    """``epochs`` counts the whole run's epochs. Asked for fewer than the interrupted run
    had already done, a resume returned the model of all those epochs, more than asked
    for and more than an uninterrupted run of that many would have trained."""
    path = tmp_path / "run.npz"
    X, y = interrupted(path)  # 3 of 6 epochs done
    model = MLP(hidden=(6,), seed=3)
    with pytest.raises(ValueError, match=r"has trained 3 epochs, more than epochs=2") as caught:
        model.fit(X, y, epochs=2, learning_rate=0.05, batch_size=16, resume=path)
    assert str(path) in str(caught.value) and not model.built
    same = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=3, learning_rate=0.05, batch_size=16, resume=path
    )
    reference = MLP(hidden=(6,), seed=3).fit(X, y, epochs=3, learning_rate=0.05, batch_size=16)
    np.testing.assert_array_equal(same.network.params, reference.network.params)


def test_an_unfinished_run_resumed_to_the_epochs_it_has_done_restores_its_best_weights(
    tmp_path,
):
    """Resumed with ``epochs`` equal to the epochs an interrupted run had done, fit returned
    the checkpoint's last weights: the callbacks' ends did not run, and so did not put
    back the best epoch's weights as an uninterrupted run of that many epochs does."""
    X, y = data()
    path = tmp_path / "run.npz"
    options = dict(
        optimizer="adam", learning_rate=0.3, batch_size=16, validation_split=0.25
    )  # fmt: skip

    class Interrupt(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 6:
                raise KeyboardInterrupt

    def stopping():
        return EarlyStopping(patience=50, restore_best_weights=True)

    MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=20, checkpoint=path, checkpoint_interval=0,
        callbacks=[stopping(), Interrupt()], **options,
    )  # fmt: skip
    reference_stopping = stopping()
    reference = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=6, callbacks=[reference_stopping], **options
    )
    assert reference_stopping.best_epoch < 5  # its end put back an earlier epoch's weights
    resumed = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=6, resume=path, callbacks=[stopping()], **options
    )
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)
    assert resumed.history.as_dict() == reference.history.as_dict()


def test_a_new_learning_rate_applies_from_the_resumed_epoch(tmp_path):
    path = tmp_path / "run.npz"
    X, y = interrupted(path)
    resumed = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=6, learning_rate=0.01, batch_size=16, resume=path
    )
    # The same as three epochs at 0.05 then three at 0.01 in one process.
    reference = MLP(hidden=(6,), seed=3).fit(X, y, epochs=3, learning_rate=0.05, batch_size=16)
    reference.fit(X, y, epochs=3, learning_rate=0.01, batch_size=16)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)
    assert resumed.history["lr"] == [0.05] * 3 + [0.01] * 3
    assert resumed.fit_config_["learning_rate"] == 0.01


def test_the_same_learning_rate_keeps_the_rate_the_run_had_lowered(tmp_path):
    # ToleranceStopping(on_plateau="reduce") lowers the optimizer's rate during the run;
    # resuming with the fit's own arguments, learning_rate included, must not undo that.
    from mlpzero.convergence import ToleranceStopping

    X, y = data()
    options = dict(epochs=12, learning_rate=0.2, batch_size=16)
    rule = lambda: ToleranceStopping(tol=0.05, patience=1, on_plateau="reduce")  # noqa: E731
    whole = MLP(hidden=(6,), seed=3).fit(X, y, callbacks=[rule()], **options)
    assert min(whole.history["lr"]) < 0.2  # the rule did lower it
    path = tmp_path / "run.npz"
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            X, y, checkpoint=path, checkpoint_interval=0, callbacks=[rule(), StopAt(8)],
            **options,
        )  # fmt: skip
    resumed = MLP(hidden=(6,), seed=3).fit(X, y, callbacks=[rule()], resume=path, **options)
    assert resumed.history["lr"] == whole.history["lr"]
    np.testing.assert_array_equal(resumed.network.params, whole.network.params)


REFUSED = {
    "loss": (dict(loss="squared_error"), {}, "loss='categorical_crossentropy'"),
    "seed": (dict(seed=4), {}, "seed=3"),
    "architecture": (dict(hidden=(7,)), {}, "hidden=(6,)"),
    "optimizer": ({}, dict(optimizer="adam"), "optimizer='sgd'"),
    "optimizer setting": (
        {},
        dict(optimizer={"name": "sgd", "momentum": 0.9}),
        "{'momentum': 0.0}",
    ),
    "batch_size": ({}, dict(batch_size=8), "batch_size=16"),
    "l2": ({}, dict(l2=0.1), "l2=0.0"),
    "penalty_per_sample": ({}, dict(penalty_per_sample=True), "penalty_per_sample=False"),
    "class_weight": ({}, dict(class_weight="balanced"), "class_weight=None"),
    "schedule": ({}, dict(schedule="cosine"), "schedule=None"),
    "validation_split": ({}, dict(validation_split=0.2), "validation_split=0.0"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_settings_that_cannot_change_mid_run_are_refused_by_name(tmp_path, case):
    model_change, fit_change, message = REFUSED[case]
    path = tmp_path / "run.npz"
    X, y = interrupted(path)
    model = MLP(**{"hidden": (6,), "seed": 3, **model_change})
    options = {"epochs": 6, "batch_size": 16, "resume": path, **fit_change}
    counter = EpochCounter()
    with pytest.raises(ValueError, match="resume: ") as caught:
        model.fit(X, y, callbacks=[counter], **options)
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert counter.begun == [] and not model.built


def test_an_explicit_loss_equal_to_the_checkpoints_is_accepted(tmp_path):
    path = tmp_path / "run.npz"
    X, y = interrupted(path)
    model = MLP(hidden=(6,), seed=3, loss="categorical_crossentropy")
    model.fit(X, y, epochs=6, learning_rate=0.05, batch_size=16, resume=path)
    assert model.history.epochs == 6


@pytest.mark.parametrize(
    ("optimizer", "added"),
    [({"name": "adam"}, "eps_after_correction"),
     ({"name": "sgd", "momentum": 0.9}, "rate_in_velocity")],
)  # fmt: skip
def test_a_checkpoint_from_before_an_optimizer_setting_existed_resumes(tmp_path, optimizer, added):
    """A file without a hyper-parameter added since ran with its default: the resumed fit
    is accepted and continues the same run."""
    path = tmp_path / "run.npz"
    X, y = data()
    options = dict(learning_rate=0.05, batch_size=16, optimizer=optimizer)
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, checkpoint=path, checkpoint_interval=0, callbacks=[StopAt(3)],
            **options,
        )  # fmt: skip

    def older(document, arrays):
        del document["training"]["optimizer"][added]
        del document["checkpoint"]["optimizer"]["config"][added]
        del document["checkpoint"]["optimizer"]["state"]["hyperparameters"][added]

    tampered(path, older)
    resumed = MLP(hidden=(6,), seed=3).fit(X, y, epochs=6, resume=path, **options)
    reference = MLP(hidden=(6,), seed=3).fit(X, y, epochs=6, **options)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)


def test_optimizer_state_hyperparameters_other_than_the_runs_are_refused(tmp_path):
    # The state's hyper-parameters were loaded into the fit's optimizer unchecked: a file
    # whose fit options said Adam's defaults but whose state said weight_decay=0.5 resumed
    # with it, silently, and changed the optimizer the fit was given.
    path = tmp_path / "run.npz"
    X, y = data()
    options = dict(learning_rate=0.05, batch_size=16, optimizer="adam")
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, checkpoint=path, checkpoint_interval=0, callbacks=[StopAt(3)],
            **options,
        )  # fmt: skip

    def contradicting(document, arrays):
        document["checkpoint"]["optimizer"]["state"]["hyperparameters"]["weight_decay"] = 0.5

    tampered(path, contradicting)
    optimizer = Adam()
    with pytest.raises(ValueError, match=r"hyperparameters has weight_decay=0\.5") as caught:
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, resume=path, **{**options, "optimizer": optimizer}
        )
    assert str(path) in str(caught.value)
    assert optimizer.weight_decay == 0.0


def test_a_checkpoint_from_before_penalty_per_sample_ran_without_it(tmp_path):
    """A file without ``penalty_per_sample`` (or ``class_weight``) in its fit options ran
    without a per-sample penalty: asking for one is refused, and class_weight, which
    such a file did not record, is not compared."""
    path = tmp_path / "run.npz"
    X, y = data()
    options = dict(learning_rate=0.05, batch_size=16, l2=0.1)
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, checkpoint=path, checkpoint_interval=0, callbacks=[StopAt(3)],
            **options,
        )  # fmt: skip

    def older(document, arrays):
        del document["training"]["penalty_per_sample"]
        del document["training"]["class_weight"]

    tampered(path, older)
    with pytest.raises(ValueError, match="penalty_per_sample=False, but fit was given"):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, resume=path, penalty_per_sample=True, **options
        )  # fmt: skip
    resumed = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=6, resume=path, class_weight="balanced", **options
    )
    assert resumed.history.epochs == 6


# ---------------------------------------------------------------------------- the same data
@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda X, y: dict(X=X[::-1].copy(), y=y[::-1].copy()), "X (in the checkpoint: 80 rows"),
        (lambda X, y: dict(X=X[:79], y=y[:79]), "79 rows x 4 features"),
        (lambda X, y: dict(X=X, y=np.roll(y, 1)), "y (in the checkpoint"),
        (lambda X, y: dict(X=X, y=y, sample_weight=np.full(80, 2.0)), "sample_weight (in the"),
        (lambda X, y: dict(X=X, y=y, validation_data=(X[:8], y[:8])), "validation_data (in"),
    ],
    ids=["rows reordered", "a row less", "labels moved", "weights added", "validation added"],
)
def test_resuming_on_other_data_is_refused_before_the_first_epoch(tmp_path, change, named):
    """Other rows, labels, weights or validation data would not continue the checkpoint's
    run: the resume names what differs and trains nothing."""
    path = tmp_path / "run.npz"
    X, y = interrupted(path)
    counter = EpochCounter()
    with pytest.raises(ValueError, match="was trained on other data") as caught:
        MLP(hidden=(6,), seed=3).fit(
            **change(X, y), epochs=6, learning_rate=0.05, batch_size=16, resume=path,
            callbacks=[counter],
        )  # fmt: skip
    assert named in str(caught.value)
    assert counter.begun == []


def test_a_batch_generators_run_is_not_resumed_on_arrays(tmp_path):
    """A generator's fit has no data signature; given arrays with the options such a fit
    records (no shuffle, batch_size=None), its resume went on full-batch on the arrays,
    another run than the generator's. The reverse was already refused."""
    X, y = data()

    def batches():
        for start in range(0, len(y), 16):
            yield X[start : start + 16], y[start : start + 16]

    path = tmp_path / "run.npz"
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            batches, None, epochs=6, learning_rate=0.05, checkpoint=path,
            checkpoint_interval=0, callbacks=[StopAt(3)],
        )  # fmt: skip
    counter = EpochCounter()
    with pytest.raises(ValueError, match="trained on a batch generator, but fit was given arrays"):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, learning_rate=0.05, shuffle=False, resume=path, callbacks=[counter]
        )
    assert counter.begun == []
    resumed = MLP(hidden=(6,), seed=3).fit(batches, None, epochs=6, learning_rate=0.05, resume=path)
    whole = MLP(hidden=(6,), seed=3).fit(batches, None, epochs=6, learning_rate=0.05)
    np.testing.assert_array_equal(resumed.network.params, whole.network.params)
    tampered(path, lambda document, _: document["checkpoint"]["progress"].update(
        batch_generator="yes"
    ))  # fmt: skip
    with pytest.raises(ValueError, match=r"checkpoint\.progress\.batch_generator must be true"):
        load_checkpoint(path)


def test_the_same_data_in_another_form_resumes_the_run(tmp_path):
    """The signature is of the values the fit trains on: float64 X and int64 labels resume
    a run checkpointed from a float32 memory map and int32 labels, bit for bit."""
    X, y = data()
    path, mapped = tmp_path / "run.npz", tmp_path / "X.npy"
    np.save(mapped, X.astype(np.float32))
    labels = np.unique(y, return_inverse=True)[1]
    options = dict(learning_rate=0.05, batch_size=16)
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            np.load(mapped, mmap_mode="r"), labels.astype(np.int32), epochs=6,
            checkpoint=path, checkpoint_interval=0, callbacks=[StopAt(3)], **options,
        )  # fmt: skip
    resumed = MLP(hidden=(6,), seed=3).fit(
        X.astype(np.float64), labels.astype(np.int64), epochs=6, resume=path, **options
    )
    reference = MLP(hidden=(6,), seed=3).fit(X, labels, epochs=6, **options)
    np.testing.assert_array_equal(resumed.network.params, reference.network.params)


def checkpointed(path, X, y, **options):
    """A fit of 6 epochs stopped after epoch 3, leaving its checkpoint at ``path``."""
    with pytest.raises(Stop):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, learning_rate=0.05, batch_size=16, checkpoint=path,
            checkpoint_interval=0, callbacks=[StopAt(3)], **options,
        )  # fmt: skip


def test_the_same_values_in_other_containers_resume_alike(tmp_path):
    """Targets as a column or a row, labels as np.str_ or str, float32 or float64 targets
    of a float32 model, -0.0 for 0.0, a sparse X with explicit zeros or in CSC: each
    trains as the checkpoint's data, so each resumes (as the uninterrupted run)."""
    sparse = pytest.importorskip("scipy.sparse")
    X, labels = data()
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    text = np.array([str(label) for label in labels], dtype=object)
    text_np = np.array([np.str_(label) for label in labels], dtype=object)
    target = X[:, 0] * 2.0
    negative_zeros = np.where(X == 0, -0.0, X)
    explicit = sparse.csr_matrix(X)
    explicit.data[explicit.data > 1.5] = 0.0  # stored zeros...
    plain = sparse.csr_matrix(explicit.toarray())  # ...and none stored
    cases = [
        ((X, text), (X, text_np)),
        ((X, labels[:, None]), (X, labels)),
        ((X, target.astype(np.float32)[:, None]), (X, target)),
        ((X, labels), (negative_zeros, labels)),
        ((explicit, labels), (plain.tocsc(), labels)),
    ]
    for index, (first, then) in enumerate(cases):
        path = tmp_path / f"run{index}.npz"
        checkpointed(path, *first)
        resumed = MLP(hidden=(6,), seed=3).fit(
            *then, epochs=6, learning_rate=0.05, batch_size=16, resume=path
        )
        whole = MLP(hidden=(6,), seed=3).fit(*first, epochs=6, learning_rate=0.05, batch_size=16)
        np.testing.assert_array_equal(resumed.network.params, whole.network.params)


def test_labels_beyond_float64_integers_are_told_apart(tmp_path):
    """Two int64 labels that are one float64: swapping them is other data."""
    path = tmp_path / "run.npz"
    X, labels = data()
    codes = np.unique(labels, return_inverse=True)[1]
    big = np.array([2**53, 2**53 + 1, 2**53 + 2], dtype=np.int64)
    checkpointed(path, X, big[codes])
    with pytest.raises(ValueError, match="was trained on other data: y"):
        MLP(hidden=(6,), seed=3).fit(
            X, big[(codes + 1) % 3], epochs=6, learning_rate=0.05, batch_size=16, resume=path
        )


def test_a_refused_resume_leaves_the_given_optimizer_as_it_was(tmp_path):
    path = tmp_path / "run.npz"
    X, y = data()
    checkpointed(path, X, y, optimizer="adam")
    optimizer = mlpzero.optimizers.Adam(learning_rate=0.05)
    with pytest.raises(ValueError, match="was trained on other data"):
        MLP(hidden=(6,), seed=3).fit(
            X[::-1].copy(), y, epochs=6, batch_size=16, optimizer=optimizer, resume=path
        )
    assert optimizer.iterations == 0 and not optimizer.state


def test_a_refused_fit_leaves_the_given_optimizer_s_rate_and_state_as_they_were(tmp_path):
    """The fit set a given optimizer's learning rate, and a resume loaded the checkpoint's
    state into it, before the checks that refused the fit."""
    X, y = data()
    optimizer = mlpzero.optimizers.Adam(learning_rate=0.001)
    with pytest.raises(ValueError, match="rows"):
        MLP(hidden=(6,), seed=3).fit(X, y[:30], optimizer=optimizer, learning_rate=0.5)
    assert (optimizer.learning_rate, optimizer.initial_learning_rate) == (0.001, 0.001)
    assert optimizer.iterations == 0 and not optimizer.state
    # A resume refused after the checkpoint's Adam moments went into the optimizer.
    path = tmp_path / "run.npz"
    checkpointed(path, X, y, optimizer="adam")
    own = MLP(hidden=(6,), seed=3).fit(X, y, epochs=1, batch_size=16, optimizer="adam")
    optimizer = own.optimizer_
    moments = {key: buffer.copy() for key, buffer in optimizer.state.items()}
    with pytest.raises(ValueError, match="beyond the largest float32"):
        MLP(hidden=(6,), seed=3).fit(
            X, y, epochs=6, batch_size=16, optimizer=optimizer, resume=path, learning_rate=1e39
        )
    assert optimizer.learning_rate == optimizer.initial_learning_rate == 0.001
    assert optimizer.iterations == len(X) // 16 + (len(X) % 16 > 0)
    assert optimizer.state.keys() == moments.keys()
    for key, buffer in moments.items():
        np.testing.assert_array_equal(optimizer.state[key], buffer)


class ThreadRank:
    """Rank ``rank`` of ``size`` threads standing in for MPI processes: ``allgather``
    meets the other threads at a barrier."""

    def __init__(self, rank, size, board, barrier):
        self.rank, self.size, self.board, self.barrier = rank, size, board, barrier

    def allgather(self, value):
        self.board[self.rank] = value
        self.barrier.wait(timeout=30)
        everyone = list(self.board)
        self.barrier.wait(timeout=30)  # all have read before the next allgather writes
        return everyone


def signatures_over_ranks(data, size):
    board, barrier, results = [None] * size, threading.Barrier(size), [None] * size

    def run(rank):
        results[rank] = data_signature(data, np.float32, ThreadRank(rank, size, board, barrier))

    threads = [threading.Thread(target=run, args=(rank,)) for rank in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_data_signature_does_not_depend_on_the_number_of_ranks(monkeypatch):
    """Each rank hashes its share of X's blocks; gathered in order they sign X as one
    process does, so a run checkpointed on two ranks resumes on three."""
    monkeypatch.setattr(mlpzero.checkpointing, "SIGNATURE_BLOCK_BYTES", 64)  # 4 rows a block
    X, y = data()
    checked = check_data(X, y, None, (X[:9], y[:9]), np.dtype(np.float32), None)
    alone = data_signature(checked, np.float32)
    for size in (2, 3, 7):
        assert signatures_over_ranks(checked, size) == [alone] * size
    monkeypatch.setattr(mlpzero.checkpointing, "SIGNATURE_BLOCK_BYTES", 4 << 20)
    # the 64-byte blocks were many: one block of the same rows signs otherwise
    assert data_signature(checked, np.float32)["X"] != alone["X"]


def test_a_checkpoint_without_a_data_signature_is_not_compared(tmp_path):
    """Files written before the signature (and a generator's fits) hold none: the data
    cannot be compared, and the resume goes ahead as before."""
    path = tmp_path / "run.npz"
    X, y = interrupted(path)
    tampered(path, lambda document, arrays: document["checkpoint"]["progress"].pop("data"))
    resumed = MLP(hidden=(6,), seed=3).fit(
        X[::-1].copy(), y[::-1].copy(), epochs=6, learning_rate=0.05, batch_size=16, resume=path
    )
    assert resumed.history.epochs == 6


@pytest.mark.parametrize(
    "signature",
    ["X", ["X"], {"X": "a"}, {"X": 1, "y": "", "sample_weight": "", "validation_data": ""},
     {"X": "a" * 401, "y": "", "sample_weight": "", "validation_data": ""},
     {"X": "a\nb", "y": "", "sample_weight": "", "validation_data": ""},
     {"X": "\u202e", "y": "", "sample_weight": "", "validation_data": ""}],
)  # fmt: skip
def test_a_bad_data_signature_in_a_checkpoint_is_refused_by_field(tmp_path, signature):
    path = tmp_path / "run.npz"
    X, y = interrupted(path)

    def change(document, arrays):
        document["checkpoint"]["progress"]["data"] = signature

    tampered(path, change)
    with pytest.raises(ValueError, match=r"checkpoint.progress.data must map"):
        MLP(hidden=(6,), seed=3).fit(X, y, epochs=6, resume=path)


# ---------------------------------------------------------------------------- callback states
def tampered(path, change):
    document, arrays = read_model_file(path)
    change(document, arrays)
    write_model_file(path, document, arrays)


@pytest.mark.parametrize("kind", ["short", "int8", "float64"])
def test_a_bad_early_stopping_state_fails_before_the_first_epoch(tmp_path, kind):
    path = tmp_path / "run.npz"
    with pytest.raises(Stop):
        stopping_run(path, extra=[StopAt(5)])
    key = "callbacks.0.state.best_weights"

    def change(document, arrays):
        weights = arrays[key]
        arrays[key] = {
            "short": weights[:-1],
            "int8": weights.astype(np.int8),
            "float64": weights.astype(np.float64),
        }[kind]

    tampered(path, change)
    counter = EpochCounter()
    with pytest.raises(ValueError, match="the state of EarlyStopping is not valid") as caught:
        stopping_run(path, resume=path, extra=[counter])
    assert str(path) in str(caught.value)
    assert counter.begun == []


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_an_optimizer_state_of_another_dtype_fails_before_the_first_epoch(tmp_path, dtype):
    # A float32 model's Adam moments stored in another float dtype passed the checks and
    # failed in the first step, naming no file ("one optimizer serves one model").
    path = tmp_path / "run.npz"
    with pytest.raises(Stop):
        stopping_run(path, extra=[StopAt(5)])

    def change(document, arrays):
        arrays["optimizer.state.exp_avg"] = arrays["optimizer.state.exp_avg"].astype(dtype)

    tampered(path, change)
    counter = EpochCounter()
    with pytest.raises(ValueError, match=r"checkpoint\.optimizer\.state\.state\.exp_avg") as caught:
        stopping_run(path, resume=path, extra=[counter])
    assert str(path) in str(caught.value) and "float32" in str(caught.value)
    assert counter.begun == []


def test_a_checkpoint_written_in_the_other_byte_order_resumes_the_same(tmp_path):
    """A checkpoint from a machine of the other byte order (big-endian) holds >f4 arrays,
    which are read as float32 values: the run resumes as from the file written here."""
    path, swapped = tmp_path / "run.npz", tmp_path / "swapped.npz"
    with pytest.raises(Stop):
        stopping_run(path, extra=[StopAt(5)])
    document, arrays = read_model_file(path)
    other = {key: value.astype(value.dtype.newbyteorder("S")) for key, value in arrays.items()}
    assert any(not value.dtype.isnative for value in other.values())
    write_model_file(swapped, document, other)
    resumed, _ = stopping_run(tmp_path / "a.npz", resume=path)
    from_swapped, _ = stopping_run(tmp_path / "b.npz", resume=swapped)
    np.testing.assert_array_equal(from_swapped.network.params, resumed.network.params)
    assert from_swapped.history.epochs == resumed.history.epochs


def test_a_checkpoint_path_that_links_to_a_missing_file_is_written_through(tmp_path):
    """A link to a file not yet made was refused as "an existing file that is not an mlpzero
    checkpoint", while save writes through such a link: the fit now writes there too."""
    X, y = data()
    link = tmp_path / "run.npz"
    link.symlink_to(tmp_path / "target.npz")
    model = MLP(hidden=(4,), seed=0)
    model.fit(X, y, epochs=2, checkpoint=link)
    assert link.is_symlink() and (tmp_path / "target.npz").is_file()
    resumed = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, resume=link)
    np.testing.assert_array_equal(resumed.network.params, model.network.params)


# ---------------------------------------------------------------------------- ModelCheckpoint
def test_a_checkpoint_path_naming_val_loss_without_validation_fails_before_training(tmp_path):
    X, y = data()
    pattern = str(tmp_path / "m-{val_loss:.3f}.npz")
    counter = EpochCounter()
    model = MLP(hidden=(4,), seed=0)
    with pytest.raises(ValueError, match=r"names \{val_loss\}, which this training does not log"):
        model.fit(X, y, epochs=2, callbacks=[ModelCheckpoint(pattern), counter])
    assert counter.begun == [] and list(tmp_path.iterdir()) == []
    model.fit(X, y, epochs=2, validation_split=0.2, callbacks=[ModelCheckpoint(pattern)])
    assert len(list(tmp_path.iterdir())) == 2
    Xr, yr = X, X[:, 0] * 2.0
    with pytest.raises(ValueError, match=r"\{val_accuracy\}"):  # regression has no accuracy
        MLP(hidden=(4,)).fit(
            Xr, yr, epochs=1, validation_split=0.2,
            callbacks=[ModelCheckpoint(str(tmp_path / "r-{val_accuracy}.npz"))],
        )  # fmt: skip


def test_a_model_checkpoint_on_the_checkpoint_or_resume_file_is_refused(tmp_path):
    """A best-only ModelCheckpoint on the fit's checkpoint file would hold the last epoch,
    and a run killed between the two writes would leave a model that cannot resume."""
    X, y = data()
    path = tmp_path / "run.npz"
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=1, checkpoint=path)
    before = path.read_bytes()
    (tmp_path / "link.npz").symlink_to(path)
    os.link(path, tmp_path / "hard.npz")
    for best, name in [
        (path, "checkpoint"),
        (tmp_path / "link.npz", "checkpoint"),
        (tmp_path / "hard.npz", "checkpoint"),
        (path, "resume"),
    ]:
        counter = EpochCounter()
        callbacks = [ModelCheckpoint(best, save_best_only=True), counter]
        message = f"ModelCheckpoint(path='{best}') names the file of {name}='{path}'"
        with pytest.raises(ValueError, match=re.escape(message)):
            MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, callbacks=callbacks, **{name: path})
        assert counter.begun == []
    assert path.read_bytes() == before


def test_a_model_checkpoint_pattern_that_could_name_the_checkpoint_is_refused(tmp_path):
    """run{epoch}.npz becomes run2.npz at the second epoch: with checkpoint=run2.npz the
    checkpoint writer replaced that epoch's model without a word."""
    X, y = data()
    checkpoint = tmp_path / "run2.npz"
    for pattern in ("run{epoch}.npz", "run{epoch:d}.npz", "r{loss}.npz", "{lr}"):
        counter = EpochCounter()
        callbacks = [ModelCheckpoint(str(tmp_path / pattern)), counter]
        message = f"could name the file of checkpoint='{checkpoint}'"
        model = MLP(hidden=(4,), seed=0)
        with pytest.raises(ValueError, match=re.escape(message)):
            model.fit(X, y, epochs=3, callbacks=callbacks, checkpoint=checkpoint)
        assert counter.begun == [] and not model.built
    (tmp_path / "link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ValueError, match="could name the file of resume="):
        MLP(hidden=(4,), seed=0).fit(
            X, y, epochs=3, resume=tmp_path / "link" / "run2.npz",
            callbacks=[ModelCheckpoint(str(tmp_path / "run{epoch}.npz"))],
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == [tmp_path / "link"]
    # a pattern that cannot become the checkpoint's name trains and saves every epoch
    callbacks = [ModelCheckpoint(str(tmp_path / "model-{epoch}.npz"))]
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=3, callbacks=callbacks, checkpoint=checkpoint)
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == [
        "model-1.npz", "model-2.npz", "model-3.npz", "run2.npz",
    ]  # fmt: skip


def test_a_model_checkpoint_never_replaces_data_or_other_files(tmp_path):
    """The guard of checkpoint=: a ModelCheckpoint path may name nothing yet or a model
    file; the memory-mapped X being trained on, or any other file, is left as it was."""
    X, y = data()
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    (tmp_path / "notes.txt").write_text("keep me")
    for path in (tmp_path / "X.npy", tmp_path / "notes.txt"):
        before = path.read_bytes()
        with pytest.raises(
            ValueError,
            match=re.escape(f"ModelCheckpoint(path='{path}') names an existing file that is ")
            + "not an mlpzero model file .* refusing to write over it",
        ):
            MLP(hidden=(4,), seed=0).fit(X_map, y, epochs=1, callbacks=[ModelCheckpoint(path)])
        assert path.read_bytes() == before
    saved = tmp_path / "model.npz"
    for _ in range(2):  # a model file it wrote before is replaced
        MLP(hidden=(4,), seed=0).fit(X_map, y, epochs=1, callbacks=[ModelCheckpoint(saved)])
    assert mlpzero.load(saved).history.epochs == 1


def test_classes_other_than_the_checkpoints_are_refused(tmp_path):
    """A resumed fit given ``classes`` the checkpoint's model does not have returned a
    model with the checkpoint's classes, the ones asked for silently dropped; a
    continued fit of a fitted model refuses them, and so must a resume."""
    path = tmp_path / "run.npz"
    X, y = interrupted(path)
    model = MLP(hidden=(6,), seed=3)
    with pytest.raises(ValueError, match=r"differs from the fitted model's classes_") as caught:
        model.fit(X, y, epochs=6, batch_size=16, resume=path, classes=["a", "b", "c", "d"])
    assert "'d'" in str(caught.value) and not model.built
    same = MLP(hidden=(6,), seed=3).fit(
        X, y, epochs=6, batch_size=16, resume=path, classes=["c", "a", "b"]
    )
    assert same.history.epochs == 6


def test_two_model_checkpoints_on_one_file_are_refused(tmp_path):
    """A best-only ModelCheckpoint and an every-epoch one given the same file: the second
    replaced the best model with the last epoch's each epoch, without a word."""
    X, y = data()
    best = tmp_path / "best.npz"
    (tmp_path / "link.npz").symlink_to(best)
    pattern = str(tmp_path / "m-{epoch}.npz")
    for first, second in [
        (best, best),
        (best, tmp_path / "link.npz"),
        (best, tmp_path / "." / "best.npz"),
        (pattern, pattern),
    ]:
        counter = EpochCounter()
        callbacks = [ModelCheckpoint(first, save_best_only=True), ModelCheckpoint(second), counter]
        message = f"ModelCheckpoint(path='{second}') could write the file of ModelCheckpoint"
        model = MLP(hidden=(4,), seed=0)
        with pytest.raises(ValueError, match=re.escape(message)):
            model.fit(X, y, epochs=2, callbacks=callbacks)
        assert counter.begun == [] and not model.built
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz"]
    # files of their own: both write
    callbacks = [ModelCheckpoint(best, save_best_only=True), ModelCheckpoint(pattern)]
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, callbacks=callbacks)
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == [
        "best.npz", "link.npz", "m-1.npz", "m-2.npz",
    ]  # fmt: skip


# ---------------------------------------------------------------------------- user states
class KeepsASet(Callback):
    def state_dict(self):
        return {"seen": {1, 2}}

    def load_state_dict(self, state):
        pass


def test_a_callback_state_a_checkpoint_cannot_store_is_named(tmp_path):
    # The write failed with "Object of type set is not JSON serializable", naming neither
    # the callback nor the value.
    X, y = data()
    with pytest.raises(ValueError, match=r"the state of callback KeepsASet = \{'seen': \{1, 2\}\}"):
        MLP(hidden=(3,)).fit(X, y, epochs=2, callbacks=[KeepsASet()], checkpoint=tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


class KeepsANumpyInfinity(Callback):
    def __init__(self):
        self.loaded = "nothing"

    def state_dict(self):
        return {"best": np.float64(np.inf)}

    def load_state_dict(self, state):
        self.loaded = state["best"]


def test_a_numpy_infinity_in_a_callback_state_is_stored_as_pythons_is(tmp_path):
    # Python's inf is stored as null; NumPy's made the checkpoint write fail.
    X, y = data()
    path = tmp_path / "c.npz"
    MLP(hidden=(3,)).fit(X, y, epochs=2, callbacks=[KeepsANumpyInfinity()], checkpoint=path)
    restored = KeepsANumpyInfinity()
    MLP(hidden=(3,)).fit(X, y, epochs=2, callbacks=[restored], resume=path)
    assert restored.loaded is None


class KeepsAnArray(Callback):
    def __init__(self, value):
        self.value = value

    def state_dict(self):
        return {"kept": self.value}

    def load_state_dict(self, state):
        self.value = state["kept"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (np.array([1j]), "has dtype complex128; only plain numbers"),
        (np.array(["a"]), "has dtype <U1; only plain numbers"),
        (np.zeros(28, np.uint8), r"has shape \(28,\), more than the 27 values of the parameters"),
    ],
)
def test_a_callback_array_a_checkpoint_cannot_read_back_is_refused_when_written(
    tmp_path, value, problem
):
    # It was written, then refused on resume ("only plain numbers are allowed"), and the
    # run could not write over the checkpoint again: "not an mlpzero checkpoint".
    X, y = data()
    path = tmp_path / "c.npz"
    with pytest.raises(
        ValueError, match=rf"state of callback KeepsAnArray: callbacks.0.state.kept {problem}"
    ):
        MLP(hidden=(3,)).fit(X, y, epochs=2, callbacks=[KeepsAnArray(value)], checkpoint=path)
    assert not path.exists()
    kept = KeepsAnArray(np.zeros(27, dtype=np.float16))  # plain numbers, parameter-sized
    MLP(hidden=(3,)).fit(X, y, epochs=2, callbacks=[kept], checkpoint=path)
    restored = KeepsAnArray(None)
    MLP(hidden=(3,)).fit(X, y, epochs=2, callbacks=[restored], resume=path)
    np.testing.assert_array_equal(restored.value, kept.value)
