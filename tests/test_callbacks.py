import os

import numpy as np
import pytest
from sklearn.datasets import make_circles

import mlpzero
from mlpzero import MLP
from mlpzero import io as mlp_io
from mlpzero.callbacks import Callback, EarlyStopping, History, LambdaCallback, ModelCheckpoint
from mlpzero.convergence import ToleranceStopping
from mlpzero.lbfgs import minimize
from mlpzero.schedules import ReduceLROnPlateau


def noisy_circles(n=200, seed=0):
    return make_circles(n_samples=n, noise=0.25, factor=0.5, random_state=seed)


class Snapshots(Callback):
    """Copies of the parameters at the end of every epoch."""

    def __init__(self):
        self.params = {}

    def on_epoch_end(self, epoch, logs=None):
        self.params[epoch] = self.model.network.params.copy()


def overfitting_run(callbacks, epochs=300):
    """A wide network on few noisy points: the validation loss turns back up."""
    X, y = noisy_circles()
    model = MLP(hidden=(64, 64), seed=0)
    model.fit(
        X,
        y,
        epochs=epochs,
        optimizer="adam",
        learning_rate=0.02,
        batch_size=32,
        validation_split=0.3,
        callbacks=callbacks,
    )
    return model


def test_hooks_run_in_order_and_a_callback_can_stop_training():
    X, y = noisy_circles(60)
    calls = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_batch_end(self, batch, logs=None):
            calls.append(f"batch {batch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")
            if epoch == 1:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            calls.append(f"train_end {sorted(logs)}")

    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=10, batch_size=40, callbacks=[Spy()])
    keys = "['accuracy', 'loss', 'lr']"
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch 0",
        "batch 1",
        f"epoch_end 0 {keys}",
        "epoch_begin 1",
        "batch 0",
        "batch 1",
        f"epoch_end 1 {keys}",
        f"train_end {keys}",
    ]
    assert model.history.epochs == 2
    # the flag is reset at the next fit
    model.fit(X, y, epochs=3)
    assert model.history.epochs == 5


def test_lr_logged_is_the_rate_a_callback_set_when_the_epoch_began():
    """A callback that sets the rate in on_epoch_begin (a hand-made schedule) trains
    that epoch at its rate; the history logged the rate from before the hook."""
    X, y = noisy_circles(60)

    class Halving(Callback):
        def __init__(self):
            self.used = []

        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer_.learning_rate = 0.1 / 2**epoch

        def on_batch_end(self, batch, logs=None):
            if batch == 0:  # the rate of this epoch's steps
                self.used.append(self.model.optimizer_.learning_rate)

    for options in ({}, {"batch_size": 20, "schedule": "exponential"}):
        halving = Halving()
        model = MLP(hidden=(3,), seed=0)
        model.fit(X, y, epochs=3, learning_rate=0.1, callbacks=[halving], **options)
        assert halving.used == [0.1, 0.05, 0.025]
        assert model.history["lr"] == halving.used


def test_early_stopping_restores_the_best_weights_exactly():
    snapshots = Snapshots()
    stopper = EarlyStopping(patience=15, restore_best_weights=True)
    model = overfitting_run([snapshots, stopper])
    val = model.history["val_loss"]
    best = int(np.argmin(val))
    assert stopper.best_epoch == best and stopper.best == val[best]
    # it stopped patience epochs after the best one, long before the 300 allowed
    assert stopper.stopped_epoch == best + 15 == model.history.epochs - 1
    np.testing.assert_array_equal(model.network.params, snapshots.params[best])
    assert not np.array_equal(model.network.params, snapshots.params[stopper.stopped_epoch])


def test_early_stopping_without_restore_keeps_the_last_weights():
    snapshots = Snapshots()
    stopper = EarlyStopping(patience=5)
    model = overfitting_run([snapshots, stopper])
    np.testing.assert_array_equal(model.network.params, snapshots.params[stopper.stopped_epoch])


def test_early_stopping_on_accuracy_maximises_it_and_min_delta_counts():
    stopper = EarlyStopping(monitor="val_accuracy", patience=2, min_delta=0.05)
    stopper.set_model(type("M", (), {"stop_training": False})())
    stopper.on_train_begin()
    for epoch, accuracy in enumerate([0.5, 0.6, 0.62, 0.64]):
        stopper.on_epoch_end(epoch, {"val_accuracy": accuracy, "loss": 1.0})
    # 0.62 and 0.64 do not beat 0.6 by more than 0.05: two epochs without improvement
    assert stopper.best == 0.6 and stopper.stopped_epoch == 3
    assert stopper.model.stop_training


def test_early_stopping_on_a_missing_metric_names_it():
    X, y = noisy_circles(60)
    with pytest.raises(ValueError, match="monitor='val_loss' is not among the logged metrics"):
        MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, callbacks=[EarlyStopping("val_loss")])


@pytest.mark.parametrize(
    "owner, options",
    [
        ("EarlyStopping", {"callbacks": [EarlyStopping("val_loss")]}),
        (
            "ModelCheckpoint",
            {"callbacks": [ModelCheckpoint("best.npz", "val_accuracy", save_best_only=True)]},
        ),
        ("ToleranceStopping", {"callbacks": [ToleranceStopping("val_loss")]}),
        ("ReduceLROnPlateau", {"schedule": ReduceLROnPlateau(monitor="val_loss")}),
    ],
)
def test_a_validation_monitor_without_validation_data_is_refused_before_training(
    owner, options, tmp_path, monkeypatch
):
    """It was refused only at the end of the first epoch, after that epoch had trained."""
    monkeypatch.chdir(tmp_path)
    X, y = noisy_circles(60)
    untrained = LambdaCallback(on_epoch_begin=lambda epoch, logs=None: pytest.fail("trained"))
    callbacks = [*options.pop("callbacks", []), untrained]
    model = MLP(hidden=(3,), seed=0)
    expected = (
        rf"{owner}: monitor='val_\w+' is not among the logged metrics "
        r"\['accuracy', 'loss', 'lr'\] \(pass validation_split or validation_data\)"
    )
    with pytest.raises(ValueError, match=expected):
        model.fit(X, y, epochs=2, callbacks=callbacks, **options)
    assert not model.built


def test_a_regressor_watching_accuracy_is_refused_before_training():
    X, _ = noisy_circles(60)
    model = MLP(hidden=(3,), seed=0)
    with pytest.raises(ValueError, match=r"EarlyStopping: monitor='accuracy' is not among"):
        model.fit(X, X[:, 0], epochs=2, callbacks=[EarlyStopping("accuracy")])
    assert not model.built


@pytest.mark.parametrize(
    "callback",
    [EarlyStopping("val_accuracy"), ModelCheckpoint("model-{val_accuracy:.2f}.npz")],
    ids=["EarlyStopping", "ModelCheckpoint"],
)
def test_a_regressor_with_validation_data_watching_accuracy_is_told_why(
    callback, tmp_path, monkeypatch
):
    # The message asked for validation_split or validation_data, which the fit had.
    monkeypatch.chdir(tmp_path)
    X, _ = noisy_circles(60)
    model = MLP(hidden=(3,), seed=0)
    with pytest.raises(ValueError, match=r"val_accuracy.*\(only classifiers log an accuracy\)"):
        model.fit(X, X[:, 0], epochs=2, validation_split=0.25, callbacks=[callback])
    assert not model.built


def test_a_monitor_that_a_callback_logs_is_looked_for_after_the_first_epoch():
    """A name training never logs may come from another callback's logs."""
    X, y = noisy_circles(60)

    def add_score(epoch, logs):
        logs["val_auc"] = float(epoch)  # minimised: only the first epoch improves

    stopping = EarlyStopping("val_auc", patience=1)
    model = MLP(hidden=(3,), seed=0).fit(
        X, y, epochs=5, callbacks=[LambdaCallback(on_epoch_end=add_score), stopping]
    )
    assert model.history.epochs == 2 and stopping.stopped_epoch == 1


def test_checkpoint_of_the_best_epoch_loads_back_to_the_same_predictions(tmp_path):
    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    stopper = EarlyStopping(patience=10, restore_best_weights=True)
    model = overfitting_run([checkpoint, stopper])
    X, _ = noisy_circles()
    loaded = mlpzero.load(path)
    np.testing.assert_array_equal(loaded.network.params, model.network.params)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert os.listdir(tmp_path) == ["best.npz"]  # no temporary file left behind


def test_best_only_checkpoint_is_not_replaced_by_a_worse_later_fit(tmp_path):
    X, y = noisy_circles(60)
    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, monitor="loss", save_best_only=True)
    model = MLP(hidden=(8,), seed=0).fit(
        X, y, epochs=30, optimizer="adam", learning_rate=0.05, callbacks=[checkpoint]
    )
    saved = path.read_bytes()
    # a second fit on flipped labels has a far worse loss than the first fit's best
    model.fit(X, 1 - y, epochs=3, callbacks=[checkpoint])
    assert min(model.history["loss"][30:]) > min(model.history["loss"][:30])
    assert path.read_bytes() == saved


def test_a_best_only_checkpoint_reused_on_another_model_saves_that_models_best(tmp_path):
    """The best value kept across fits is that of the model it watched: given to a new
    model, the checkpoint saved none of its epochs, and last_saved still named the first
    model's file, as if it were the new model's best."""
    X, y = noisy_circles(60)
    checkpoint = ModelCheckpoint(tmp_path / "best-{epoch}.npz", monitor="loss", save_best_only=True)
    MLP(hidden=(8,), seed=0).fit(
        X, y, epochs=30, optimizer="adam", learning_rate=0.05, callbacks=[checkpoint]
    )
    other = MLP(hidden=(8,), seed=1).fit(X, y, epochs=2, callbacks=[checkpoint])
    assert checkpoint.last_saved == str(tmp_path / "best-2.npz")
    loaded = mlpzero.load(checkpoint.last_saved)
    np.testing.assert_array_equal(loaded.network.params, other.network.params)


def test_a_best_only_checkpoint_does_not_compare_a_validation_loss_with_a_training_loss(
    tmp_path,
):
    """monitor=None watches loss in a fit without validation data and val_loss in one
    with it. The best of the first fit was kept, and the second fit's validation losses
    were measured against a training loss: none of them was saved."""
    X, y = noisy_circles(60)
    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    model = MLP(hidden=(8,), seed=0).fit(
        X, y, epochs=30, optimizer="adam", learning_rate=0.05, callbacks=[checkpoint]
    )
    path.unlink()
    # validated on flipped labels: every validation loss is worse than the training losses
    model.fit(X, y, epochs=2, validation_data=(X, 1 - y), callbacks=[checkpoint])
    assert min(model.history["val_loss"][30:]) > min(model.history["loss"][:30])
    assert path.exists()


def test_checkpoint_every_epoch_with_a_name_pattern(tmp_path):
    X, y = noisy_circles(60)
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.npz")
    checkpoint = ModelCheckpoint(pattern)
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, callbacks=[checkpoint])
    names = sorted(os.listdir(tmp_path))
    assert [name[:8] for name in names] == ["ckpt-01-", "ckpt-02-", "ckpt-03-"]
    assert checkpoint.last_saved == str(tmp_path / names[-1])
    last = mlpzero.load(checkpoint.last_saved)
    np.testing.assert_array_equal(last.network.params, model.network.params)


def test_failed_checkpoint_write_leaves_the_previous_file(tmp_path, monkeypatch):
    X, y = noisy_circles(60)
    path = tmp_path / "model.npz"
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, callbacks=[ModelCheckpoint(path)])
    before = path.read_bytes()

    def broken(handle, members):
        handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(mlp_io, "_write_npz", broken)
    with pytest.raises(OSError, match="disk full"):
        model.fit(X, y, epochs=1, callbacks=[ModelCheckpoint(path)])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_ctrl_c_stops_cleanly_with_the_weights_and_history_so_far(capsys):
    X, y = noisy_circles(60)
    snapshots = Snapshots()

    def interrupt(epoch, logs):
        if epoch == 4:
            raise KeyboardInterrupt

    model = MLP(hidden=(3,), seed=0)
    returned = model.fit(
        X, y, epochs=50, callbacks=[snapshots, LambdaCallback(on_epoch_end=interrupt)]
    )
    assert returned is model
    assert model.history.epochs == 5
    np.testing.assert_array_equal(model.network.params, snapshots.params[4])
    assert "interrupted" in capsys.readouterr().err


def test_ctrl_c_in_the_middle_of_an_epoch_rolls_back_to_its_start():
    X, y = noisy_circles(60)
    snapshots = Snapshots()
    seen = []

    def interrupt(batch, logs):
        seen.append(batch)
        if len(seen) == 9:  # epoch 2, batch 0 (four batches per epoch)
            raise KeyboardInterrupt

    model = MLP(hidden=(3,), seed=0).fit(
        X,
        y,
        epochs=50,
        batch_size=16,
        callbacks=[snapshots, LambdaCallback(on_batch_end=interrupt)],
    )
    assert model.history.epochs == 2
    np.testing.assert_array_equal(model.network.params, snapshots.params[1])


def test_ctrl_c_with_early_stopping_restores_the_best_weights():
    snapshots = Snapshots()
    stopper = EarlyStopping(patience=1000, restore_best_weights=True)

    def interrupt(epoch, logs):
        if epoch == 60:
            raise KeyboardInterrupt

    model = overfitting_run([snapshots, stopper, LambdaCallback(on_epoch_end=interrupt)])
    assert model.history.epochs == 61
    best = int(np.argmin(model.history["val_loss"]))
    assert best < 60
    np.testing.assert_array_equal(model.network.params, snapshots.params[best])


def test_lambda_callback_refuses_unknown_hooks():
    with pytest.raises(TypeError, match="unknown hooks"):
        LambdaCallback(on_step=print)
    with pytest.raises(TypeError, match="must be callable"):
        LambdaCallback(on_epoch_end=3)


def test_lambda_callback_functions_take_the_hook_arguments_logs_included():
    """Written as the hooks are, f(logs) and f(epoch, logs), on_train_begin and
    on_epoch_begin failed in training with "missing 1 required positional argument:
    'logs'" (the loop calls those hooks without logs). Functions that leave the logs out
    are still called without them, and one of neither form is refused when made."""
    X, y = noisy_circles(60)
    calls = []
    full = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch, logs)),
        on_batch_end=lambda batch, logs: calls.append(("batch", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train_end", sorted(logs))),
    )
    short = LambdaCallback(
        on_train_begin=lambda: calls.append("short train_begin"),
        on_epoch_begin=lambda epoch: calls.append(f"short epoch_begin {epoch}"),
    )
    for optimizer in ("sgd", "lbfgs"):
        calls.clear()
        MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, optimizer=optimizer, callbacks=[full, short])
        keys = ["accuracy", "loss"] if optimizer == "lbfgs" else ["accuracy", "loss", "lr"]
        expected = [("train_begin", {}), "short train_begin"]
        if optimizer == "sgd":  # L-BFGS has no epoch begin nor batches
            expected += [("epoch_begin", 0, {}), "short epoch_begin 0", ("batch", 0, ["loss"])]
        assert calls == [*expected, ("epoch_end", 0, keys), ("train_end", keys)]
    with pytest.raises(TypeError, match=r"on_epoch_begin must take \(epoch, logs\)"):
        LambdaCallback(on_epoch_begin=lambda: None)
    with pytest.raises(TypeError, match=r"on_train_end must take \(logs\)"):
        LambdaCallback(on_train_end=lambda a, b, c: None)


def test_a_checkpoint_path_naming_a_folder_is_refused_when_made(tmp_path):
    """A path ending in a separator names a folder: it was accepted, and the first epoch
    trained before the save failed with IsADirectoryError."""
    for path in (f"{tmp_path}/models/", f"{tmp_path}/{{epoch}}/", f"{tmp_path}{os.sep}"):
        with pytest.raises(ValueError, match="names a folder, not a file"):
            ModelCheckpoint(path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [("", "must be a file path, got the empty string ''"), ("m\0.npz", "must not hold a NUL")],
)
def test_an_empty_or_nul_checkpoint_path_is_refused_when_made(path, expected):
    """The empty path and one holding a NUL character were accepted, and the first epoch
    trained before the save failed ("path must be a file path" from the model's save)."""
    with pytest.raises(ValueError, match=rf"^ModelCheckpoint: path {expected}"):
        ModelCheckpoint(path)


def test_a_checkpoint_in_a_folder_that_is_a_file_says_so(tmp_path):
    """A path under a file (data.csv/m.npz) failed after the first epoch with
    "[Errno 17] File exists: 'data.csv'", which says nothing of what is wrong."""
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    for path in (data / "m.npz", data / "runs" / "m-{epoch}.npz"):
        with pytest.raises(NotADirectoryError, match=f"{data} is a file, not a folder"):
            MLP(hidden=(3,)).fit(X, y, epochs=1, callbacks=[ModelCheckpoint(path)])
    assert data.read_text() == "a,b\n" and os.listdir(tmp_path) == ["data.csv"]


def test_bad_callback_arguments():
    with pytest.raises(ValueError, match="patience must be >= 0"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")
    with pytest.raises(TypeError, match="path must be a str"):
        ModelCheckpoint(3)


@pytest.mark.parametrize("value", ["no", "False", 1, 0, None])
def test_callback_switches_refuse_what_is_not_a_bool(tmp_path, value):
    """``"no"`` is true: read as a truth value, it switched the option on."""
    with pytest.raises(TypeError, match=r"restore_best_weights must be True or False, got"):
        EarlyStopping(restore_best_weights=value)
    with pytest.raises(TypeError, match=r"save_best_only must be True or False, got"):
        ModelCheckpoint(tmp_path / "m.npz", save_best_only=value)
    assert EarlyStopping(restore_best_weights=np.True_).restore_best_weights is True
    assert ModelCheckpoint(tmp_path / "m.npz", save_best_only=False).save_best_only is False


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("runs/{exp}/m.npz", r"unknown placeholder \{exp\}; known: epoch, loss, accuracy"),
        ("m-{epoch}-{val_los:.3f}.npz", r"unknown placeholder \{val_los\}"),
        ("m-{}.npz", r"/m-\{\}.npz' is not a valid name pattern: .*index 0"),
        ("m-{epoch.npz", r"/m-\{epoch.npz' is not a valid name pattern: .*expected '\}'"),
        ("m-{loss:d}.npz", r"not a valid name pattern: Unknown format code 'd'"),
    ],
)
def test_a_bad_checkpoint_name_pattern_is_refused_before_training(tmp_path, pattern, message):
    with pytest.raises(ValueError, match=message) as error:
        ModelCheckpoint(tmp_path / pattern)
    assert str(tmp_path / pattern) in str(error.value)  # the whole path, as received


def test_a_model_no_file_can_hold_is_refused_before_the_first_epoch(tmp_path):
    """Labels held as Python objects train, but no model file holds them: a fit that is
    to write checkpoints refuses them before training, naming the argument, and leaves
    the model unbuilt and no file behind, instead of failing after its first epochs."""
    X, y = noisy_circles(60)
    labels = np.array([b"no", b"yes"], dtype=object)[y]
    for options in (
        {"checkpoint": tmp_path / "run.npz", "checkpoint_interval": 2},
        {"callbacks": [ModelCheckpoint(tmp_path / "best.npz")]},
    ):
        model = MLP(hidden=(3,), seed=0)
        with pytest.raises(
            ValueError,
            match=r"(checkpoint=|ModelCheckpoint\(path=).*"
            r"cannot save class labels of dtype object",
        ) as error:
            model.fit(X, labels, epochs=3, **options)
        assert str(tmp_path) in str(error.value)
        assert not model.built and not os.listdir(tmp_path)
    assert MLP(hidden=(3,), seed=0).fit(X, labels, epochs=1).built  # no file: trained


def test_every_known_placeholder_is_accepted_and_filled(tmp_path):
    X, y = noisy_circles(60)
    pattern = "m-{epoch}-{loss:.2f}-{accuracy:.2f}-{val_loss:.2f}-{val_accuracy:.2f}-{lr:g}.npz"
    checkpoint = ModelCheckpoint(tmp_path / pattern)
    model = MLP(hidden=(3,), seed=0)
    model.fit(X, y, epochs=1, validation_split=0.25, learning_rate=0.1, callbacks=[checkpoint])
    logs = {key: values[-1] for key, values in model.history.as_dict().items()}
    assert sorted(logs) == ["accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert checkpoint.last_saved == str(tmp_path / pattern.format(epoch=1, **logs))
    assert os.path.exists(checkpoint.last_saved)


def test_history_round_trips_through_a_dict():
    X, y = noisy_circles(60)
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, validation_split=0.2)
    copy = History.from_dict(model.history.as_dict())
    assert copy.as_dict() == model.history.as_dict() and copy.epochs == 3
    with pytest.raises(ValueError, match="one length"):
        History.from_dict({"loss": [1.0, 2.0], "lr": [0.1]})


def test_train_end_sees_only_the_metrics_of_the_last_fit():
    # A fit without validation data after one with it: its end has no val_loss, neither
    # the earlier fit's last value nor the NaN its own epochs record for it.
    class Ends(Callback):
        def on_train_end(self, logs=None):
            seen.append(dict(logs))

    seen = []
    X, y = noisy_circles(40)
    model = MLP(hidden=(4,), seed=0)
    model.fit(X, y, epochs=3, validation_data=(X, y), callbacks=[Ends()])
    model.fit(X, y, epochs=2, callbacks=[Ends()])
    assert "val_loss" in seen[0] and "val_loss" not in seen[1]
    assert seen[1]["loss"] == model.history["loss"][-1]
    assert np.isnan(model.history["val_loss"][-2:]).all()


def test_a_callback_object_listed_twice_is_refused():
    """``[EarlyStopping(patience=1)] * 2`` ran the same object's hooks twice an epoch: its
    patience ran out after one epoch where one object alone trains on. It is refused,
    before the model is built, by MLP.fit and by L-BFGS alike."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    alone = MLP(hidden=(4,), seed=0).fit(X, y, epochs=3, callbacks=[EarlyStopping(patience=1)])
    assert alone.history.epochs == 3
    stop = EarlyStopping(patience=1)
    for optimizer in ("sgd", "lbfgs"):
        model = MLP(hidden=(4,), seed=0)
        with pytest.raises(ValueError, match="the same EarlyStopping object is listed twice"):
            model.fit(X, y, epochs=3, callbacks=[stop, stop], optimizer=optimizer)
        assert model.network is None
    model = MLP(hidden=(4,), seed=0).build(X, y)
    with pytest.raises(ValueError, match="listed twice"):
        minimize(model.network, model.loss_, X, np.c_[y].astype(np.float32), callbacks=[stop] * 2)
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, callbacks=[EarlyStopping(), EarlyStopping()])


def test_a_checkpoint_path_naming_an_existing_folder_says_it_is_a_folder(tmp_path):
    """Without a trailing separator a folder was refused as "an existing file that is not
    an mlpzero model file", which it is not."""
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"ModelCheckpoint\(path=.*\) is a folder; give the path"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, callbacks=[ModelCheckpoint(tmp_path)])
    assert list(tmp_path.iterdir()) == []
