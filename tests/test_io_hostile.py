"""Hostile model files: whatever the bytes, reading fails with a ValueError that names the
file (and the field), quickly and with little memory, or gives a working model."""

import itertools
import json
import os
import re
import struct
import threading
import tracemalloc
import zlib

import numpy as np
import pytest

import mlpzero
from conftest import blobs, read_model_file, traced_peak, write_model_file
from mlpzero import MLP, checkpointing, io
from mlpzero.callbacks import Callback, EarlyStopping
from mlpzero.training import TrainingDivergedError

GB = 1 << 30
MB = 1 << 20


# ---------------------------------------------------------------------------- crafting files
def npy_header(dtype, shape):
    import io as bytes_io

    buffer = bytes_io.BytesIO()
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def deflated(data, zeros=0):
    """A raw deflate stream of ``data`` followed by ``zeros`` zero bytes (a multiple of
    16 MiB), made without ever holding the zeros' compressed form more than once: after a
    full flush deflate forgets its history, so every 16 MiB block compresses the same."""
    chunk = 16 * MB
    assert zeros % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = b""
    if zeros:
        block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * (zeros // chunk) + compressor.flush()


def write_zip(path, members):
    """A zip archive of ``(name, raw deflate bytes, crc32, declared size)`` members, or
    ``(name, raw bytes, crc32, declared size, method, declared compressed size)`` ones
    (method 0: stored as they are)."""
    local, central = bytearray(), bytearray()
    for name, raw, crc, size, *rest in members:
        method, packed = rest if rest else (8, len(raw))
        encoded = name.encode()
        offset = len(local)
        fields = (20, 0, method, 0, 0x21, crc, packed, size, len(encoded), 0)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + encoded + raw
        entry = (20, 20, 0, method, 0, 0x21, crc, packed, size, len(encoded), 0, 0, 0, 0, 0,
                 offset)  # fmt: skip
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *entry) + encoded
    count = len(members)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    path.write_bytes(bytes(local) + bytes(central) + end)
    return path


def member(name, array):
    """An honest member holding ``array``."""
    data = npy_header(array.dtype, array.shape) + np.ascontiguousarray(array).tobytes()
    return name, deflated(data), zlib.crc32(data), len(data)


def bomb(name, size, dtype="<f8"):
    """A member whose header declares ``size`` bytes of zeros, which it inflates to."""
    header = npy_header(dtype, (size // np.dtype(dtype).itemsize,))
    return name, deflated(header, size), 0, len(header) + size


def metadata_member(document):
    return member("metadata.npy", np.frombuffer(json.dumps(document).encode(), dtype=np.uint8))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    X, y = blobs(classes=("a", "b", "c"))
    model = MLP(hidden=(4, 3), seed=0).fit(X, y, epochs=3)
    model_path = model.save(folder / "model.npz")
    checkpoint_path = folder / "run.npz"
    MLP(hidden=(4, 3), seed=0).fit(
        X, y, epochs=3, optimizer="adam", checkpoint=checkpoint_path, checkpoint_interval=0,
        callbacks=[EarlyStopping(monitor="loss", restore_best_weights=True)],
    )  # fmt: skip
    return folder, model_path, checkpoint_path, X


def peak_memory(function):
    """Run ``function``; return (its exception or None, the peak of traced memory)."""
    tracemalloc.start()
    try:
        function()
    except Exception as error:
        caught = error
    else:
        caught = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return caught, peak


# ---------------------------------------------------------------------------- size bombs
def test_members_that_inflate_to_gigabytes_are_refused_before_reading(files):
    folder, model_path, checkpoint_path, _ = files
    document, arrays = read_model_file(model_path)
    honest = [metadata_member(document), member("params.npy", arrays["params"])]
    extra = write_zip(folder / "extra.npz", [*honest, bomb("junk1.npy", GB), bomb("junk2.npy", GB)])
    assert extra.stat().st_size < 2.5 * MB  # two gigabytes of zeros in a small file
    state = write_zip(folder / "state.npz", [*honest, bomb("optimizer.m.npy", GB)])
    big_params = write_zip(folder / "params.npz", [honest[0], bomb("params.npy", GB, "<f4")])
    big_metadata = write_zip(folder / "meta.npz", [bomb("metadata.npy", GB, "|u1"), honest[1]])
    cases = [
        (extra, mlpzero.load, "unexpected member 'junk1.npy'"),
        (state, mlpzero.load, "'optimizer.m.npy' is not referred to"),
        (big_params, mlpzero.load, r"params \(member 'params.npy'\) declares \d+ bytes"),
        (big_metadata, mlpzero.load, r"metadata \(member 'metadata.npy'\) declares \d+ bytes"),
    ]
    checkpoint_document, checkpoint_arrays = read_model_file(checkpoint_path)
    name = checkpoint_document["checkpoint"]["optimizer"]["state"]["state"]["exp_avg"]["__array__"]
    inflated = write_zip(
        folder / "ckpt.npz",
        [
            metadata_member(checkpoint_document),
            *(member(f"{k}.npy", v) for k, v in checkpoint_arrays.items() if k != name),
            bomb(f"{name}.npy", GB),
        ],
    )
    cases.append(
        (inflated, checkpointing.load_checkpoint, r"optimizer.state.state.exp_avg .* declares")
    )
    for path, read, message in cases:
        error, peak = peak_memory(lambda path=path, read=read: read(path))
        assert isinstance(error, ValueError), (path, error)
        assert str(path) in str(error)
        assert re.search(message, str(error)), str(error)
        assert peak < 4 * MB, (path, peak)


def test_an_archive_of_many_entries_is_refused_before_they_are_read(tmp_path):
    # zipfile makes an object of every entry of the directory before the number can be
    # checked: 50,000 entries in 2.4 MB took 18 MB (a million in 47 MB, 400 MB and
    # seconds). They are counted from their headers first.
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, 0, 0, 0, 1, *[0] * 6)
    count = 50_000
    directory = (entry + b"a") * count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(directory), 0, 0)
    path = tmp_path / "entries.npz"
    path.write_bytes(directory + end)
    error, peak = peak_memory(lambda: mlpzero.load(path))
    assert peak < 4 * MB, peak
    assert isinstance(error, ValueError), error
    assert f"{path} is not a valid mlpzero model file: more than 1024 members" in str(error)


def test_a_few_kilobytes_may_not_declare_tens_of_thousands_of_layers(files, tmp_path):
    # Sixty thousand one-unit layers compress into a few kilobytes; building them took
    # about 70 MB and seconds. They are refused before any is built. An honest file of as
    # many layers, as mlpzero writes it, holds its metadata stored (about 37 bytes a layer),
    # and loads.
    _, model_path, _, _ = files
    document, _ = read_model_file(model_path)
    depth = 60_000
    sizes = [document["network"]["layer_sizes"][0], *[1] * depth, 3]
    document["network"]["layer_sizes"] = sizes
    document["network"]["activations"] = [{"name": "relu"}] * depth
    document["model"].update(hidden=[1] * depth, dropout=[0.0] * depth, standardize=False)
    params = np.zeros(sum(a * b + b for a, b in itertools.pairwise(sizes)), np.float32)
    members = [metadata_member(document), member("params.npy", params)]
    path = write_zip(tmp_path / "deep.npz", members)
    assert path.stat().st_size < 10_000
    error, peak = peak_memory(lambda: mlpzero.load(path))
    assert isinstance(error, ValueError), error
    assert str(path) in str(error) and "layer_sizes lists 60001 layers" in str(error)
    assert peak < 32 * MB, peak

    X = np.random.default_rng(0).standard_normal((20, 1))
    honest = MLP(hidden=(1,) * 20_000, seed=0).fit(X, X[:, 0] > 0, epochs=1)
    loaded = mlpzero.load(honest.save(tmp_path / "honest.npz"))
    assert loaded.network.layer_sizes == honest.network.layer_sizes


def test_parameters_the_metadata_allows_may_not_inflate_far_past_the_file(files):
    # The metadata declares a layer of two million units, and params.npy truly holds their
    # 56 MB of zeros, compressed into a file of a few tens of kilobytes: reading it would
    # take memory out of all proportion to the file. A compressed copy of an honest model
    # still reads.
    folder, model_path, _, _ = files
    document, arrays = read_model_file(model_path)
    honest = folder / "compressed.npz"
    with np.load(model_path) as stored:
        np.savez_compressed(honest, **{key: stored[key] for key in stored.files})
    np.testing.assert_array_equal(mlpzero.load(honest).network.params, arrays["params"])
    sizes = document["network"]["layer_sizes"]
    sizes[1] = document["model"]["hidden"][0] = 2_000_000
    count = sum(a * b + b for a, b in itertools.pairwise(sizes))
    assert 50 * MB < count * 4 < 70 * MB
    header = npy_header("<f4", (count,))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw, crc, left, zeros = compressor.compress(header), zlib.crc32(header), count * 4, bytes(MB)
    while left:
        block = zeros[: min(left, MB)]
        raw += compressor.compress(block)
        crc, left = zlib.crc32(block, crc), left - len(block)
    raw += compressor.flush()
    params = ("params.npy", raw, crc, len(header) + count * 4)
    path = write_zip(folder / "inflating.npz", [metadata_member(document), params])
    assert path.stat().st_size < 100_000
    error, peak = peak_memory(lambda: mlpzero.load(path))
    assert isinstance(error, ValueError), error
    assert str(path) in str(error) and "member 'params.npy'" in str(error)
    assert "inflates to" in str(error)
    assert peak < 4 * MB


def test_a_member_that_inflates_past_its_declared_size_is_cut_there(files):
    folder, model_path, _, _ = files
    document, arrays = read_model_file(model_path)
    params = arrays["params"]
    data = npy_header(params.dtype, params.shape) + params.tobytes()
    # The zip entry declares the honest size, but its stream goes on for a gigabyte.
    lying = ("params.npy", deflated(data, GB), zlib.crc32(data), len(data))
    path = write_zip(folder / "lying.npz", [metadata_member(document), lying])
    loaded = None

    def read():
        nonlocal loaded
        loaded = mlpzero.load(path)

    error, peak = peak_memory(read)
    assert error is None and peak < 4 * MB
    np.testing.assert_array_equal(loaded.network.params, params)


def test_a_huge_history_or_metadata_is_refused_without_parsing_it(files):
    folder, model_path, _, _ = files
    document, arrays = read_model_file(model_path)
    document["history"]["lr"] = "LR"  # becomes 30 million numbers
    head, tail = json.dumps(document).encode().split(b'"LR"')
    text = head + b"[" + b"0.01," * 30_000_000 + b"0.01]" + tail
    data = npy_header("|u1", (len(text),)) + text
    meta = ("metadata.npy", deflated(data), zlib.crc32(data), len(data))
    path = write_zip(folder / "history.npz", [meta, member("params.npy", arrays["params"])])
    del text, data
    assert path.stat().st_size < MB
    error, peak = peak_memory(lambda: mlpzero.load(path))
    assert isinstance(error, ValueError) and str(path) in str(error)
    assert "metadata" in str(error) and "declares" in str(error)
    assert peak < 4 * MB


def test_the_depth_check_takes_memory_for_the_depth_not_the_values():
    # A long history is one list of numbers: checking how deep the document nests must
    # not hold a tuple per number (several times the memory of the document itself).
    history = {"loss": [0.5] * 200_000, "lr": [[[]], {"a": [1, 2]}]}
    peak = traced_peak(lambda: io._nested_at_most(history, 32))
    assert peak < 64 * 1024
    assert io._nested_at_most(history, 4) and not io._nested_at_most(history, 3)
    assert io._nested_at_most(0, 0) and not io._nested_at_most([], 0)


@pytest.mark.parametrize("payload", [b"{}," * 100_000, b"0," * 150_000, b'"ab",' * 60_000])
def test_a_document_that_would_parse_to_many_times_its_size_is_refused(files, monkeypatch, payload):
    # A stored document may take 256 MB: packed with empty objects or bare zeros it would
    # parse to 20 to 50 times that. Scaled down here by lowering the floor of the budget.
    monkeypatch.setattr(io, "_MIN_PARSE_BUDGET", MB)
    folder, model_path, _, _ = files
    document, arrays = read_model_file(model_path)
    document["history"]["loss"] = "PAYLOAD"
    head, tail = json.dumps(document).encode().split(b'"PAYLOAD"')
    text = head + b"[" + payload + b"0]" + tail
    data = npy_header("|u1", (len(text),)) + text
    meta = ("metadata.npy", data, zlib.crc32(data), len(data), 0, len(data))
    path = write_zip(folder / "packed.npz", [meta, member("params.npy", arrays["params"])])
    error, peak = peak_memory(lambda: mlpzero.load(path))
    assert isinstance(error, ValueError) and str(path) in str(error), error
    assert "metadata: the document's" in str(error) and "16 times" in str(error), str(error)
    assert peak < 4 * len(text)  # the bytes and their text, never the parsed objects


def test_the_densest_history_mlpzero_writes_is_within_the_parse_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_MIN_PARSE_BUDGET", MB)
    X, y = blobs()
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=1)
    epochs = 100_000
    model.history.history = {key: [0.5] * epochs for key in ("loss", "accuracy", "lr")}
    path = model.save(tmp_path / "dense.npz")
    assert mlpzero.load(path).history.history == model.history.history


def test_a_stored_member_that_declares_more_than_the_file_holds_is_refused(files):
    # A stored member is read as it lies in the file, so a big document may be stored
    # (up to 256 MB): but only if the file holds all of it, checked before any reading.
    folder, model_path, _, _ = files
    document, arrays = read_model_file(model_path)
    text = json.dumps(document).encode()
    data = npy_header("|u1", (len(text),)) + text
    params = member("params.npy", arrays["params"])
    declared = 200 * MB
    header = npy_header("|u1", (declared - 128,))
    lying_sizes = ("metadata.npy", data, zlib.crc32(data), declared, 0, len(data))
    past_the_end = ("metadata.npy", header, 0, declared, 0, declared)
    for name, entry in (("sizes", lying_sizes), ("end", past_the_end)):
        path = write_zip(folder / f"stored-{name}.npz", [entry, params])
        assert path.stat().st_size < MB
        error, peak = peak_memory(lambda path=path: mlpzero.load(path))
        assert isinstance(error, ValueError) and str(path) in str(error), error
        assert "stored as they are, more than the file's" in str(error), str(error)
        assert peak < 4 * MB


# ---------------------------------------------------------------------------- state arrays
def wide_checkpoint(path):
    """A checkpoint of a model of 4,545 float32 parameters trained with Adam (two state
    arrays); its document and arrays."""
    X = np.random.default_rng(0).standard_normal((90, 4))
    y = (X[:, 0] > 0).astype(int)
    MLP(hidden=(64, 64), seed=0).fit(
        X, y, epochs=2, optimizer="adam", batch_size=16, checkpoint=path
    )
    return read_model_file(path)


def test_a_state_array_referred_to_many_times_is_refused_not_copied(tmp_path):
    """Each reference once gave its own copy: 2,000 references to one 18 kB member asked
    for 36 MB from a file of a few kB."""
    path = tmp_path / "run.npz"
    document, arrays = wide_checkpoint(path)
    reference = {"__array__": "optimizer.state.exp_avg"}
    document["checkpoint"]["callbacks"] = [{"type": "X", "state": {"w": [reference] * 2000}}]
    write_model_file(path, document, arrays)
    error, peak = peak_memory(lambda: checkpointing.load_checkpoint(path))
    assert isinstance(error, ValueError), error
    assert str(path) in str(error)
    assert (
        "checkpoint.callbacks[0].state.w[0] refers to the array 'optimizer.state.exp_avg' a "
        "second time" in str(error)
    )
    assert peak < 4 * MB


def test_state_arrays_beyond_eight_times_the_parameters_are_refused(tmp_path):
    path = tmp_path / "run.npz"
    document, arrays = wide_checkpoint(path)
    params = arrays["params"]

    def with_arrays(count):  # Adam's two state arrays, and ``count`` parameter-sized more
        keys = [f"callbacks.0.state.w.{i}" for i in range(count)]
        state = {"w": [{"__array__": key} for key in keys]}
        document["checkpoint"]["callbacks"] = [{"type": "X", "state": state}]
        extra = {key: params.copy() for key in keys}
        return write_model_file(tmp_path / f"{count}.npz", document, {**arrays, **extra})

    loaded = checkpointing.load_checkpoint(with_arrays(6))  # eight times: the limit
    assert len(loaded.checkpoint.callback_states[0]["state"]["w"]) == 6
    with pytest.raises(
        ValueError, match=f"state arrays .* take more than {8 * params.nbytes} bytes, 8 times"
    ):
        checkpointing.load_checkpoint(with_arrays(7))


def test_a_checkpoint_is_not_written_with_state_arrays_it_could_not_read_back(tmp_path):
    class Snapshots(Callback):
        def state_dict(self):
            return {"snapshots": [self.model.network.params.copy() for _ in range(7)]}

        def load_state_dict(self, state):
            pass

    X, y = blobs()
    path = tmp_path / "run.npz"
    with pytest.raises(ValueError, match=r"cannot save to .*run\.npz: the checkpoint's state"):
        MLP(hidden=(4,), seed=0).fit(
            X, y, epochs=1, optimizer="adam", checkpoint=path, callbacks=[Snapshots()]
        )
    assert not path.exists()


def rewrite(folder, source, change, name="bad.npz"):
    document, arrays = read_model_file(source)
    change(document)
    path = folder / name
    text = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(path, metadata=text, **arrays)
    return path


def test_history_lists_longer_than_the_epochs_recorded_are_refused(files):
    folder, model_path, _, _ = files

    def longer(document):
        document["history"]["lr"] = [0.01] * 100_000

    error, peak = peak_memory(lambda: mlpzero.load(rewrite(folder, model_path, longer)))
    assert isinstance(error, ValueError)
    assert "history['lr'] has 100000 values, more than the 3 epochs" in str(error)
    assert peak < 32 * MB

    def shorter(document):  # a file from before every list held one value per epoch: fine
        document["history"]["val_loss"] = [0.5]

    values = mlpzero.load(rewrite(folder, model_path, shorter)).history["val_loss"]
    assert np.isnan(values[:2]).all() and values[2:] == [0.5]  # a metric first measured last

    def many_short(document):  # lined up, 20,000 one-value metrics would be 2e9 values
        document["history"] = {"loss": [0.5] * 100_000, **{f"m{i}": [1] for i in range(20_000)}}

    error, peak = peak_memory(lambda: mlpzero.load(rewrite(folder, model_path, many_short)))
    assert isinstance(error, ValueError), error
    assert "would take 1999980000 more" in str(error)
    assert peak < 64 * MB


def test_a_wide_string_dtype_is_narrowed_to_the_longest_label(files):
    folder, model_path, _, X = files

    def wide(document):
        document["target"]["classes"]["dtype"] = "<U100000000"

    def predict():
        model = mlpzero.load(rewrite(folder, model_path, wide))
        assert model.classes_.dtype == np.dtype("<U1")
        assert model.predict(X).dtype == np.dtype("<U1")

    error, peak = peak_memory(predict)
    assert error is None, error
    assert peak < 4 * MB


def test_a_class_label_longer_than_a_thousand_characters_is_refused(files):
    """One long label made every prediction as wide: 100,000 characters in a small file
    turned 60 predicted rows into 24 MB."""
    folder, model_path, _, X = files

    def long(document):
        document["target"]["classes"]["values"][-1] = "c" * 100_000  # still sorted

    path = rewrite(folder, model_path, long)
    error, peak = peak_memory(lambda: mlpzero.load(path).predict(X))
    assert isinstance(error, ValueError), error
    assert (
        f"{path}: target.classes.values: a class label has 100000 characters, more "
        "than the 1000 a model file allows" in str(error)
    )
    assert peak < 4 * MB


@pytest.mark.skipif(
    not hasattr(getattr(np, "dtypes", None), "StringDType"), reason="NumPy before 2.0"
)
def test_a_string_dtype_label_too_long_to_read_back_is_refused_before_training(tmp_path):
    """Labels of NumPy's StringDType skipped the check of fit: a label of 1001 characters
    trained, and only save, after all the epochs, refused the model."""
    X, _ = blobs()
    labels = np.array(["a" * 1001, "b"], dtype=np.dtypes.StringDType())
    model = MLP(hidden=(3,), seed=0)
    with pytest.raises(ValueError, match=r"y: a class label has 1001 characters"):
        model.fit(X, labels[(X[:, 0] > 0).astype(int)], epochs=1)
    assert not model.built
    short = np.array(["a" * 1000, "b"], dtype=labels.dtype)
    model.fit(X, short[(X[:, 0] > 0).astype(int)], epochs=1)
    assert mlpzero.load(model.save(tmp_path / "1000.npz")).classes_.tolist() == ["a" * 1000, "b"]


def test_a_model_with_a_label_too_long_to_read_back_is_not_fitted_nor_saved(tmp_path):
    X, _ = blobs()
    model = MLP(hidden=(3,), seed=0).fit(X, np.where(X[:, 0] > 0, "a" * 1000, "b"), epochs=1)
    path = model.save(tmp_path / "1000.npz")
    assert mlpzero.load(path).classes_.tolist() == ["a" * 1000, "b"]
    with pytest.raises(ValueError, match=r"y: a class label has 1001 characters"):
        MLP(hidden=(3,), seed=0).fit(X, np.where(X[:, 0] > 0, "a" * 1001, "b"), epochs=1)
    from mlpzero.sklearn import MLPClassifier

    for labels in (np.array([b"a" * 1001, b"b"]), np.array(["a" * 1001, "b"], dtype=object)):
        with pytest.raises(ValueError, match=r"y: a class label has 1001 characters"):
            MLP(hidden=(3,), seed=0).fit(X, labels[(X[:, 0] > 0).astype(int)], epochs=1)
    with pytest.raises(ValueError, match=r"y: a class label has 1001 characters"):
        MLPClassifier(max_iter=1).fit(X, np.where(X[:, 0] > 0, "a" * 1001, "b"))
    model.encoder.classes_ = np.array(["a" * 1001, "b"])  # what no fit gives: save refuses
    with pytest.raises(ValueError, match="cannot save a model: a class label has 1001 char"):
        model.save(tmp_path / "1001.npz")
    assert not (tmp_path / "1001.npz").exists()


# ---------------------------------------------------------------------------- special files
def finishes(function, seconds=10.0):
    """Run ``function`` in a thread; its exception, or fail if it is still running."""
    outcome = {}

    def run():
        try:
            function()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the read hangs"
    return outcome.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_refused_not_read(tmp_path):
    fifo = tmp_path / "a_fifo"
    os.mkfifo(fifo)
    X, y = blobs()
    reads = [
        lambda: mlpzero.load(fifo),
        lambda: io.read_record(fifo, checkpoint=True),
        lambda: MLP(hidden=(3,)).fit(X, y, epochs=1, resume=fifo),
    ]
    for read in reads:
        error = finishes(read)
        assert isinstance(error, ValueError) and "a_fifo is a FIFO, not a regular file" in str(
            error
        )
    if os.path.exists("/dev/zero"):
        error = finishes(lambda: mlpzero.load("/dev/zero"))
        assert isinstance(error, ValueError) and "/dev/zero is a device" in str(error)
    with pytest.raises(FileNotFoundError):
        mlpzero.load(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------- crafted fields
def deep(levels):
    value = []
    for _ in range(levels):
        value = [value]
    return value


HOSTILE_VALUES = [
    10**400, -(10**400), 2**64, 1e308, -1, 0, 1.5, True, None, "x", "", [], {}, [0.5] * 3,
    deep(900), "<U100000000", "(1000000000,)<U5", {"__array__": "params"},
    {"names": ["a"], "formats": ["<U5"], "offsets": [10**400]},
]  # fmt: skip


def json_paths(value, prefix=()):
    """Every path to a value inside a JSON document (lists: their first three items)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from json_paths(child, (*prefix, index))


def mutations(document):
    """(description, changed copy) for each path and each hostile value, and deletions."""
    for path in json_paths(document):
        if not path:
            continue
        for value in [*HOSTILE_VALUES, "<delete>"]:
            changed = json.loads(json.dumps(document))
            target = changed
            for key in path[:-1]:
                target = target[key]
            if value == "<delete>":
                del target[path[-1]]
            else:
                target[path[-1]] = value
            yield f"{'.'.join(map(str, path))} = {str(value)[:30]}", changed


def only_value_errors_naming(path, action, description):
    try:
        action()
    except TrainingDivergedError:
        pass  # a valid but huge learning rate: training says so, as for any fit
    except ValueError as error:
        assert str(path) in str(error), (description, error)
    except Exception as error:  # the point is to catch every other kind
        pytest.fail(f"{description}: {type(error).__name__}: {error}")


def test_crafted_model_fields_raise_only_value_errors_naming_the_file(files):
    folder, model_path, _, X = files
    document, arrays = read_model_file(model_path)
    path = folder / "fuzzed.npz"
    for description, changed in mutations(document):
        write_model_file(path, changed, arrays)
        only_value_errors_naming(path, lambda: mlpzero.load(path).predict_proba(X), description)


def test_crafted_checkpoint_fields_raise_only_value_errors_naming_the_file(files):
    folder, _, checkpoint_path, X = files
    document, arrays = read_model_file(checkpoint_path)
    _, y = blobs(classes=("a", "b", "c"))
    path = folder / "fuzzed-run.npz"

    def resume():
        MLP(hidden=(4, 3), seed=0).fit(
            X, y, epochs=5, optimizer="adam", resume=path,
            callbacks=[EarlyStopping(monitor="loss", restore_best_weights=True)],
        )  # fmt: skip

    for description, changed in mutations({"checkpoint": document.pop("checkpoint")}):
        write_model_file(path, {**document, **changed}, arrays)
        only_value_errors_naming(path, resume, description)


RANDOM_STATES = {
    "short MT19937 key": {"bit_generator": "MT19937", "state": {"key": [1, 2, 3], "pos": 0}},
    "huge MT19937 pos": {"bit_generator": "MT19937", "state": {"key": [1] * 624, "pos": 10**400}},
    "PCG64 state too large": {
        "bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
        "state": {"state": 10**400, "inc": 1},
    },
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(RANDOM_STATES))
def test_crafted_random_states_raise_value_errors(files, case):
    folder, model_path, _, _ = files
    document, arrays = read_model_file(model_path)
    document["random_state"] = RANDOM_STATES[case]
    path = write_model_file(folder / "state.npz", document, arrays)
    with pytest.raises(ValueError, match="random_state is not valid") as caught:
        mlpzero.load(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("field", ["fit_random_state", "model"])
def test_a_checkpoint_whose_two_random_states_differ_in_kind_is_refused_naming_it(files, field):
    # Each state was valid alone, and resuming put one into the other's generator:
    # "state must be for a PCG64 RNG", naming neither the file nor the field.
    folder, _, checkpoint_path, X = files
    document, arrays = read_model_file(checkpoint_path)
    other = np.random.MT19937(5).state
    other["state"]["key"] = other["state"]["key"].tolist()  # as a file holds it
    if field == "model":
        document["random_state"] = other
    else:
        document["checkpoint"]["progress"]["fit_random_state"] = other
    path = write_model_file(folder / "two-states.npz", document, arrays)
    message = r"checkpoint\.progress\.fit_random_state is a state of (MT19937|PCG64), but"
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": " + message):
        checkpointing.load_checkpoint(path)
    _, y = blobs(classes=("a", "b", "c"))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        MLP(hidden=(4, 3), seed=0).fit(
            X, y, epochs=5, optimizer="adam", resume=path,
            callbacks=[EarlyStopping(monitor="loss", restore_best_weights=True)],
        )  # fmt: skip


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_data_files_that_are_fifos_are_refused(tmp_path):
    from mlpzero.datasets import load_data

    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "X.npy", np.eye(3))
    np.save(folder / "y.npy", np.arange(3))
    os.mkfifo(folder / "columns.json")
    error = finishes(lambda: load_data(folder))
    assert isinstance(error, ValueError) and "columns.json must be a regular file" in str(error)
    csv_fifo, npz_fifo = tmp_path / "t.csv", tmp_path / "t.npz"
    os.mkfifo(csv_fifo)
    os.mkfifo(npz_fifo)
    for path in (csv_fifo, npz_fifo):
        error = finishes(lambda path=path: load_data(path))
        assert isinstance(error, ValueError) and "regular file" in str(error), error
    other = tmp_path / "other"  # it said "no X.npy in the folder; it holds ['X.npy']"
    other.mkdir()
    os.mkfifo(other / "X.npy")
    error = finishes(lambda: load_data(other))
    assert isinstance(error, ValueError) and str(error) == "other/X.npy must be a regular file"


def set_path(document, keys, value):
    target = document
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


REPORTED = {  # the cases of the report, each with the field its error must name
    "history 10**400": (("history", "loss", 0), 10**400, "history['loss']"),
    "leaky_relu alpha": (
        ("network", "activations", 0), {"name": "leaky_relu", "alpha": 10**400}, "activations[0]"
    ),
    "dropout": (("model", "dropout"), [10**400, 0.0], "model.dropout"),
    "dtype offset": (
        ("target", "classes", "dtype"),
        {"names": ["a"], "formats": ["<U5"], "offsets": [10**400]},
        "target.classes.dtype",
    ),
    "subarray dtype": (("target", "classes", "dtype"), "(1000000000,)<U5", "target.classes.dtype"),
    "deep optimizer state": (
        ("checkpoint", "optimizer", "state", "state"), deep(900), "nested more than 32 deep"
    ),
}  # fmt: skip


def crafted_checkpoint_error(files, keys, value):
    """The file and the message of the error that loading the checkpoint of ``files`` gives
    with the field at ``keys`` of its metadata set to ``value``."""
    folder, _, checkpoint_path, _ = files
    document, arrays = read_model_file(checkpoint_path)
    set_path(document, keys, value)
    path = write_model_file(folder / "crafted.npz", document, arrays)
    with pytest.raises(ValueError) as caught:
        checkpointing.load_checkpoint(path)
    return path, str(caught.value)


@pytest.mark.parametrize("case", sorted(REPORTED))
def test_the_reported_crafted_fields_raise_value_errors_naming_file_and_field(files, case):
    keys, value, field = REPORTED[case]
    path, message = crafted_checkpoint_error(files, keys, value)
    assert str(path) in message and field in message


LONG = "x" * 1_000_000
LONG_TEXTS = {  # a megabyte of text where a name belongs: the error shows a short excerpt
    "activation config": (
        ("network", "activations", 0), {"name": 1, "pad": LONG}, "network.activations[0]"
    ),
    "activation list": (("model", "activation"), [{"name": 1, "pad": LONG}], "model.activation"),
    "history key": (("history", LONG), "none", "history['xxx"),
    "state key": (
        ("checkpoint", "optimizer", "state", "state", LONG), {"__array__": "bad"},
        "checkpoint.optimizer.state.state.xxx",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(LONG_TEXTS))
def test_errors_quote_a_long_text_of_the_file_in_short(files, case):
    keys, value, field = LONG_TEXTS[case]
    path, message = crafted_checkpoint_error(files, keys, value)
    assert str(path) in message and field in message
    assert len(message) < 1000, message[:300]


RESUMED_LONG_TEXTS = {  # read as they are, then refused on resuming: named in short
    "optimizer name": (("checkpoint", "optimizer", "config", "name"), LONG, "optimizer 'xxx"),
    "callback type": (("checkpoint", "callbacks", 0, "type"), LONG, "callbacks ['xxx"),
    "state key": (
        ("checkpoint", "optimizer", "state", "state", LONG), 5, "optimizer.state.state.xxx"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(RESUMED_LONG_TEXTS))
def test_resuming_quotes_a_long_text_of_the_checkpoint_in_short(files, case):
    folder, _, checkpoint_path, X = files
    keys, value, field = RESUMED_LONG_TEXTS[case]
    document, arrays = read_model_file(checkpoint_path)
    set_path(document, keys, value)
    path = write_model_file(folder / "long_resume.npz", document, arrays)
    _, y = blobs(classes=("a", "b", "c"))
    with pytest.raises(ValueError) as caught:
        MLP(hidden=(4, 3), seed=0).fit(
            X, y, epochs=4, optimizer="adam", resume=path,
            callbacks=[EarlyStopping(monitor="loss", restore_best_weights=True)],
        )  # fmt: skip
    message = str(caught.value)
    assert str(path) in message and field in message, message[:300]
    assert len(message) < 1000, message[:300]


LOOSE_FIELDS = {  # fields a model file could carry that the loader once let through
    "repeated feature names": ("feature_names", "repeated", "feature_names must be distinct"),
    "negative epochs": ("training", {"epochs": -5}, "training.epochs must be a whole number"),
    "fractional epochs": ("training", {"epochs": 2.5}, "training.epochs must be a whole number"),
}


@pytest.mark.parametrize("case", sorted(LOOSE_FIELDS))
def test_repeated_feature_names_and_bad_epochs_are_refused(files, case):
    folder, model_path, _, _ = files
    key, value, message = LOOSE_FIELDS[case]
    document, arrays = read_model_file(model_path)
    if value == "repeated":
        value = ["x"] * document["network"]["layer_sizes"][0]
    path = write_model_file(folder / "loose.npz", {**document, key: value}, arrays)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": " + message):
        mlpzero.load(path)


def test_a_model_with_repeated_feature_names_is_not_saved(tmp_path):
    X, y = blobs()
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=1)
    model.feature_names_in_ = ["a"] * X.shape[1]
    with pytest.raises(ValueError, match="cannot save a model: feature_names must be distinct"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize(
    "member, value", [("standardize.scale", 1e-40), ("standardize.mean", 1e39)]
)
def test_standardisation_a_float32_model_cannot_hold_is_refused_on_loading(tmp_path, member, value):
    # Finite and positive in float64, but in float32 the scale is subnormal or the mean
    # infinite: the model could not predict, and an export would divide by zero or hold inf.
    X, y = blobs()
    model = MLP(hidden=(3,), seed=0, standardize=True).fit(X, y, epochs=2)
    document, arrays = read_model_file(model.save(tmp_path / "model.npz"))
    arrays[member] = arrays[member].copy()
    arrays[member][0] = value
    path = write_model_file(tmp_path / "crafted.npz", document, arrays)
    with pytest.raises(ValueError) as error:
        mlpzero.load(path)
    assert str(path) in str(error.value)
    assert "do not fit in float32" in str(error.value)
