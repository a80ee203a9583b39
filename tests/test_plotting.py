"""Plotting: every figure is written as a real PNG, without warnings or windows."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from mlpzero import MLP
from mlpzero.callbacks import History
from mlpzero.datasets import make_moons, make_spirals
from mlpzero.plotting import (
    LivePlot,
    plot_activation_comparison,
    plot_activations,
    plot_decision_boundary,
    plot_learning_curves,
    plot_loss_curve,
)
from mlpzero.plotting.boundary import class_probabilities

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_bytes=5000):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) >= min_bytes
    # IHDR gives width and height as big-endian ints at bytes 16..24
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 200 and height >= 200


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(200, noise=0.1, random_state=0)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=300, learning_rate=0.5)
    return model, X, y


def test_activations_figure(tmp_path):
    path = tmp_path / "activations.png"
    figure = plot_activations(path)
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 2
    values, slopes = figure.axes
    assert [line.get_label() for line in values.lines] == ["sigmoid", "tanh", "relu"]
    # The right panel holds the derivatives: sigmoid' peaks at 1/4, tanh' at 1.
    peaks = [line.get_ydata().max() for line in slopes.lines]
    np.testing.assert_allclose(peaks[:2], [0.25, 1.0], atol=1e-3)
    assert_png(path)


def test_activations_figure_rejects_bad_ranges():
    with pytest.raises(ValueError, match="z_range"):
        plot_activations(z_range=(1, -1))
    with pytest.raises(ValueError, match="unknown activation"):
        plot_activations(activations=["nope"])


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"points": 0}, ValueError, r"points must be >= 2, got 0"),  # drew empty panels
        ({"points": -1}, ValueError, r"points must be >= 2, got -1"),
        ({"points": 1.5}, TypeError, r"points must be an integer, got float 1.5"),
        ({"points": True}, TypeError, r"points must be an integer, got bool True"),
        ({"z_range": (1, 2, 3)}, ValueError, r"z_range must be two finite numbers.*\(1, 2, 3\)"),
        ({"z_range": ("a", "b")}, ValueError, r"z_range must be two finite numbers.*'a'"),
        ({"z_range": None}, ValueError, r"z_range must be two finite numbers.*None"),
        ({"activations": "relu"}, TypeError, r"a list of names, got the string 'relu'"),
    ],
)
def test_activations_figure_names_a_bad_argument(options, error, message):
    with pytest.raises(error, match=message):
        plot_activations(**options)


def test_binary_decision_boundary(tmp_path, moons):
    model, X, y = moons
    path = tmp_path / "nested" / "boundary.png"
    figure = plot_decision_boundary(model, X, y, path=path, title="moons")
    accuracy = model.evaluate(X, y)["accuracy"]
    assert figure.axes[0].get_title() == f"moons: accuracy {accuracy:.1%}"
    assert_png(path)


def test_boundary_accepts_a_probability_callable(tmp_path):
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [2.0, -1.0]])
    y = np.array([0, 1, 0, 0])

    def right_half(points):  # P(class 1) = 1 on the right half-plane
        return (points[:, 0] > 0).astype(float)

    path = tmp_path / "callable.png"
    figure = plot_decision_boundary(right_half, X, y, path=path)
    assert figure.axes[0].get_title() == "accuracy 75.0%"  # the last point is misclassified
    assert_png(path)


def test_multiclass_boundary_uses_the_argmax_class(tmp_path):
    X, y = make_spirals(150, n_classes=3, random_state=0)

    def nearest_axis(points):  # a deterministic 3-class "model"
        angle = np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * np.pi)
        sector = (angle // (2 * np.pi / 3)).astype(int)
        return np.eye(3)[sector] * 0.8 + 0.2 / 3

    path = tmp_path / "spirals.png"
    figure = plot_decision_boundary(nearest_axis, X, y, path=path)
    predicted = class_probabilities(nearest_axis, X, 3).argmax(axis=1)
    expected = f"accuracy {np.mean(predicted == y):.1%}"
    assert figure.axes[0].get_title() == expected
    image = figure.axes[0].images[0].get_array()
    assert len(np.unique(image.reshape(-1, 3), axis=0)) >= 3  # three region colours
    assert_png(path)


def test_multiclass_mlp_boundary(tmp_path):
    X, y = make_spirals(150, n_classes=3, random_state=1)
    model = MLP(hidden=(16,), seed=0).fit(X, y, epochs=50, learning_rate=0.5)
    path = tmp_path / "mlp3.png"
    plot_decision_boundary(model, X, y, path=path, resolution=60)
    assert_png(path)


def test_boundary_rejects_bad_input(moons):
    model, X, y = moons
    with pytest.raises(ValueError, match="2 columns"):
        plot_decision_boundary(model, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="rows to match X"):
        plot_decision_boundary(model, X, y[:-1])
    with pytest.raises(TypeError, match="predict_proba"):
        plot_decision_boundary(42, X, y)
    with pytest.raises(ValueError, match="shape"):
        plot_decision_boundary(lambda p: np.ones((len(p), 3)), X, y)
    with pytest.raises(ValueError, match="padding"):
        plot_decision_boundary(model, X, y, padding=-0.1)
    with pytest.raises(TypeError, match="resolution"):
        plot_decision_boundary(model, X, y, resolution=10.5)
    far = X.astype(np.float64)
    far[0, 0], far[1, 0] = -1.7e308, 1.7e308  # finite, but their distance is not
    with pytest.raises(ValueError, match="grid's width overflows float64; rescale X"):
        plot_decision_boundary(model, far, y)
    far[:2, 0] = [-5e307, 5e307]  # their distance fits, until padding is added
    with pytest.raises(ValueError, match=r"padding=0\.5"):
        plot_decision_boundary(model, far, y, padding=0.5)


def test_boundary_refuses_a_regression_model():
    """Its predict_proba gives the predicted values, which were drawn as probabilities of
    the second of two target values, with an accuracy in the title."""
    X = np.random.default_rng(0).standard_normal((60, 2))
    y = np.where(X[:, 0] > 0, 1.5, 0.5)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=5)
    assert model.task == "regression"
    with pytest.raises(ValueError, match=r"binary or multi-class classifier.*got a regression"):
        plot_decision_boundary(model, X, y)
    from mlpzero.plotting import LivePlot

    fresh = MLP(hidden=(4,), seed=0)
    with pytest.raises(ValueError, match=r"LivePlot\(boundary=...\) draws decision regions"):
        fresh.fit(X, y, epochs=5, callbacks=[LivePlot(boundary=(X, y))])
    assert fresh.history.epochs == 0


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_boundary_refuses_a_multilabel_estimator_and_a_label_matrix():
    """The scikit-learn estimator has no .task: a multi-label one had its two labels'
    independent probabilities drawn as the two classes of one label, with an accuracy in
    the title; and a 0/1 label matrix failed on a reshape that did not name y."""
    pytest.importorskip("sklearn")
    from mlpzero.sklearn import MLPClassifier

    X = np.random.default_rng(0).standard_normal((60, 2))
    Y = (X > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match=r"binary or multi-class classifier.*got a multilabel"):
        plot_decision_boundary(clf, X, Y[:, 0])
    with pytest.raises(ValueError, match=r"y must hold one label per row of X.*\(60, 2\)"):
        plot_decision_boundary(lambda p: np.full(len(p), 0.5), X, Y)
    with pytest.raises(ValueError, match=r"LivePlot\(boundary=...\) draws decision regions"):
        clf.set_params(max_iter=1, callbacks=[LivePlot(boundary=(X, Y[:, 0]))]).fit(X, Y)


def test_live_plot_refuses_boundary_labels_it_cannot_draw_before_training(tmp_path):
    """A y of another length than X, or with labels the model does not know, failed only
    when the final picture was saved: after the whole fit."""
    X = np.random.default_rng(0).standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    message = r"LivePlot\(boundary=...\): expected y with 60 rows to match X, got 10"
    with pytest.raises(ValueError, match=message):
        LivePlot(boundary=(X, y[:10]), path=tmp_path / "live.png")
    live = LivePlot(boundary=(X, y + 5), path=tmp_path / "live.png")
    model = MLP(hidden=(4,), seed=0)
    with pytest.raises(ValueError, match=r"LivePlot\(boundary=...\): y holds labels the model"):
        model.fit(X, y, epochs=3, callbacks=[live])
    assert model.history.epochs == 0
    assert not (tmp_path / "live.png").exists()


def test_live_plot_refuses_a_boundary_for_a_model_of_other_inputs_before_training(tmp_path):
    # A model of 3 features: the plane of 2 failed in predict_proba, after the whole fit.
    X = np.random.default_rng(0).standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    live = LivePlot(boundary=(X[:, :2], y), path=tmp_path / "live.png")
    model = MLP(hidden=(4,), seed=0)
    with pytest.raises(ValueError, match=r"LivePlot\(boundary=...\) draws a plane.*takes 3"):
        model.fit(X, y, epochs=3, callbacks=[live])
    assert model.history.epochs == 0


def test_loss_curve(tmp_path, moons):
    model, _, _ = moons
    path = tmp_path / "loss.png"
    figure = plot_loss_curve(model.history, path=path)
    (line,) = figure.axes[0].lines
    np.testing.assert_allclose(line.get_ydata(), model.history["loss"])
    assert_png(path)


def test_loss_curve_takes_lists_and_validation_losses(tmp_path):
    history = History()
    for epoch in range(20):
        history.append({"loss": 1 / (epoch + 1), "val_loss": 1.2 / (epoch + 1), "accuracy": 0.5})
    figure = plot_loss_curve(history, path=tmp_path / "h.png")
    assert sorted(line.get_label() for line in figure.axes[0].lines) == ["loss", "val_loss"]
    figure = plot_loss_curve([3.0, 2.0, 1.0], path=tmp_path / "l.png")
    assert len(figure.axes[0].lines) == 1
    with pytest.raises(ValueError, match="no losses"):
        plot_loss_curve([])
    with pytest.raises(TypeError, match="history"):
        plot_loss_curve(3.5)


def test_loss_curve_names_a_history_that_is_no_list_of_losses():
    """A string is a sequence: it failed converting its letters to floats. A table of
    numbers was told to "train the model first"."""
    with pytest.raises(TypeError, match=r"history must be a History.*got str 'loss'"):
        plot_loss_curve("loss")
    with pytest.raises(ValueError, match=r"history\['loss'\] must be one loss per epoch.*\(2, 2\)"):
        plot_loss_curve([[1.0, 0.5], [0.4, 0.3]])
    with pytest.raises(ValueError, match=r"history\['val_loss'\] must be one loss per epoch"):
        plot_loss_curve({"loss": [1.0, 0.5], "val_loss": [[1.0], [0.5]]})


def test_activation_comparison(tmp_path):
    X, y = make_moons(120, noise=0.1, random_state=2)
    models = {
        name: MLP(hidden=(6,), activation=name, seed=0).fit(X, y, epochs=100, learning_rate=0.5)
        for name in ("sigmoid", "tanh", "relu")
    }
    path = tmp_path / "comparison.png"
    figure = plot_activation_comparison(models, X, y, path=path, resolution=50)
    titles = [ax.get_title() for ax in figure.axes]
    for name, model in models.items():
        assert f"{name}: accuracy {model.evaluate(X, y)['accuracy']:.1%}" in titles
    assert "Training loss" in titles
    assert_png(path, min_bytes=10000)
    with pytest.raises(ValueError, match="at least one"):
        plot_activation_comparison({}, X, y)


def test_no_pyplot_figures_are_left_open(tmp_path, moons):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    model, X, y = moons
    plot_decision_boundary(model, X, y, path=tmp_path / "b.png")
    plot_activations(tmp_path / "a.png")
    assert plt.get_fignums() == before


def test_loss_curve_puts_validation_losses_on_their_epochs():
    X, y = make_moons(60, noise=0.1, random_state=3)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=10, learning_rate=0.5)
    model.fit(X, y, epochs=5, learning_rate=0.5, validation_data=(X, y))
    figure = plot_loss_curve(model)
    lines = {line.get_label(): line for line in figure.axes[0].lines}
    finite = np.isfinite(lines["val_loss"].get_ydata())
    np.testing.assert_array_equal(lines["val_loss"].get_xdata()[finite], np.arange(11, 16))
    np.testing.assert_array_equal(lines["loss"].get_xdata(), np.arange(1, 16))
    assert figure.axes[0].get_yscale() == "log"


def test_boundary_accuracy_when_y_holds_one_class():
    # Every point is of one class and predicted so: the title must say 100 %, not 0 %.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    for label in (0, 1):
        y = np.full(30, label)
        model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, learning_rate=0.1)
        assert np.mean(model.predict(X) == y) == 1.0
        figure = plot_decision_boundary(model, X, y, resolution=20)
        assert figure.axes[0].get_title() == "accuracy 100.0%"
    ones = plot_decision_boundary(lambda p: np.ones(len(p)), X, np.ones(30), resolution=20)
    assert ones.axes[0].get_title() == "accuracy 100.0%"
    zeros = plot_decision_boundary(lambda p: np.zeros(len(p)), X, np.zeros(30), resolution=20)
    assert zeros.axes[0].get_title() == "accuracy 100.0%"


def test_multiclass_regions_are_centred_on_their_grid_points():
    # Three classes by the sign pattern of x1 and x2; each pixel must be drawn where its
    # grid point is: the pixel centres are the grid.
    X = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    y = np.array([0, 1, 2, 2])

    def thirds(points):
        return np.eye(3)[np.digitize(points[:, 0], [-1 / 3, 1 / 3])]

    resolution = 7
    figure = plot_decision_boundary(thirds, X, y, resolution=resolution, padding=0)
    image = figure.axes[0].images[0]
    left, right, bottom, top = image.get_extent()
    centres = left + (np.arange(resolution) + 0.5) * (right - left) / resolution
    np.testing.assert_allclose(centres, np.linspace(-1, 1, resolution))
    centres = bottom + (np.arange(resolution) + 0.5) * (top - bottom) / resolution
    np.testing.assert_allclose(centres, np.linspace(-1, 1, resolution))
    assert figure.axes[0].get_xlim() == (-1.0, 1.0)


def test_validation_losses_of_epochs_between_unvalidated_ones_are_drawn():
    # Fits of one epoch, with validation data and without in turn: no validation value
    # has a measured neighbour, so as a bare line not one of them would show.
    X, y = make_moons(60, noise=0.1, random_state=3)
    model = MLP(hidden=(4,), seed=0)
    for _ in range(3):
        model.fit(X, y, epochs=1, learning_rate=0.5, validation_data=(X, y))
        model.fit(X, y, epochs=1, learning_rate=0.5)
    measured = np.isfinite(model.history["val_loss"]).tolist()
    assert measured == [True, False] * 3
    curves = plot_loss_curve(model).axes[0].lines
    panels = plot_learning_curves(model).axes
    for line in (curves[1], panels[0].lines[1], panels[1].lines[1]):
        assert line.get_marker() == "o" and line.get_markevery() == measured
    for line in (curves[0], panels[0].lines[0]):  # the training loss, one unbroken line
        assert line.get_marker() in (None, "None", "")


def test_boundary_refuses_a_resolution_out_of_proportion():
    """resolution=100_000 asked for 10^10 grid points: a MemoryError naming no argument, or,
    a little lower, gigabytes allocated and minutes spent before any figure appeared."""
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    calls = []

    def model(points):
        calls.append(len(points))
        return np.full(len(points), 0.3)

    with pytest.raises(ValueError, match=r"resolution must be at most 2000, got 100000"):
        plot_decision_boundary(model, X, np.array([0, 1]), resolution=100_000)
    assert calls == []
    with pytest.raises(ValueError, match=r"resolution must be at most 2000, got 5000"):
        LivePlot(boundary=(X, np.array([0, 1])), resolution=5000)
    plot_decision_boundary(model, X, np.array([0, 1]), resolution=2000)  # the largest


def test_a_figure_path_naming_a_folder_is_refused(tmp_path):
    """A folder given as path had ".png" added: the figure went to a file beside the
    folder, not into it, without a word."""
    folder = tmp_path / "figures"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"path=.*figures'? is a folder"):
        plot_loss_curve([1.0, 0.5], path=folder)
    with pytest.raises(ValueError, match=r"path=.*figures'? is a folder"):
        LivePlot(path=str(folder))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures"]
    assert list(folder.iterdir()) == []


def test_boundary_reads_classes_in_the_models_own_order():
    """The probability columns follow ``classes_``, which need not be sorted: its labels
    were looked up as if sorted, so a model right on every point was drawn at 25% with
    its points in the wrong colours."""

    class Unsorted:
        classes_ = np.array(["b", "a", "c"])

        def predict_proba(self, points):
            column = np.digitize(points[:, 0], [0, 1])  # b left of 0, a up to 1, c beyond
            return np.eye(3)[column]

    X = np.array([[-1.0, 0.0], [0.5, 0.0], [2.0, 0.0], [-2.0, 1.0]])
    y = np.array(["b", "a", "c", "b"])
    figure = plot_decision_boundary(Unsorted(), X, y, resolution=10)
    ax = figure.axes[0]
    assert ax.get_title() == "accuracy 100.0%"
    np.testing.assert_array_equal(ax.collections[0].get_array(), [0, 1, 2, 0])


def test_live_plot_leaves_a_gap_where_no_epoch_measured_and_shows_a_lone_point():
    """Its lines joined the validation losses of two fits straight across the epochs of a
    fit between them without validation, and a series of one epoch drew nothing: the
    picture saved after ``fit(epochs=1)`` was empty."""
    X, y = make_moons(40, noise=0.2, random_state=0)
    model = MLP(hidden=(4,), seed=0)
    live = LivePlot()
    model.fit(X, y, epochs=1, callbacks=[live])
    (line,) = [ln for ln in live.figure().axes[0].lines if ln.get_label() == "loss"]
    assert line.get_marker() not in (None, "None", "") and line.get_markevery() == [True]

    live = LivePlot()
    model.fit(X, y, epochs=2, validation_data=(X, y), callbacks=[live])
    model.fit(X, y, epochs=2, callbacks=[live])
    model.fit(X, y, epochs=2, validation_data=(X, y), callbacks=[live])
    (line,) = [ln for ln in live.figure().axes[0].lines if ln.get_label() == "val_loss"]
    np.testing.assert_array_equal(line.get_xdata(), [2, 3, 4, 5, 6, 7])
    drawn = np.isfinite(np.asarray(line.get_ydata(), dtype=float))
    np.testing.assert_array_equal(drawn, [True, True, False, False, True, True])


def test_live_plot_reused_on_another_model_draws_that_models_curves_alone():
    """The curves of the first model stayed, and the second model's epochs 1, 2 were
    appended to them: one line ran from epoch 3 back to epoch 1, two models in one."""
    X, y = make_moons(40, noise=0.2, random_state=0)
    live = LivePlot()
    MLP(hidden=(4,), seed=0).fit(X, y, epochs=3, callbacks=[live])
    other = MLP(hidden=(4,), seed=1).fit(X, y, epochs=2, callbacks=[live])
    (line,) = [ln for ln in live.figure().axes[0].lines if ln.get_label() == "loss"]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    np.testing.assert_array_equal(line.get_ydata(), other.history["loss"])


def test_boundary_of_more_than_ten_classes_gives_each_its_own_colour():
    """The ten colours were reused: class 10 was drawn in class 0's colour, its region and
    points indistinguishable from class 0's."""
    X = np.column_stack([np.arange(12.0), np.arange(12.0) % 2])
    y = np.arange(12)

    def nearest(points):
        return np.eye(12)[np.clip(np.rint(points[:, 0]).astype(int), 0, 11)]

    figure = plot_decision_boundary(nearest, X, y, resolution=12, padding=0)
    ax = figure.axes[0]
    points = ax.collections[0]
    colours = points.cmap(points.norm(points.get_array()))[:, :3]
    assert len({tuple(np.round(c, 6)) for c in colours}) == 12
    regions = ax.images[0].get_array()[0]  # one row of the grid: one pixel per class
    assert len({tuple(np.round(c, 6)) for c in regions}) == 12


def test_boundary_matches_a_frames_columns_to_the_models_features_by_name(tmp_path):
    """A frame with the training columns in another order was drawn by position: the
    regions and the accuracy in the title were those of the swapped features (52% for a
    model right on every point), while ``score`` on the same frame said 100%. A live
    plot's boundary frame was read the same way, and a frame of other names was drawn as
    if it were the model's."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((200, 2)) * [1, 3], columns=["a", "b"])
    y = (frame["a"] > 0.5).astype(int).to_numpy()
    model = MLP(hidden=(8,), seed=0).fit(frame, y, epochs=300, learning_rate=0.5)
    assert model.score(frame[["b", "a"]], y) == 1.0
    figure = plot_decision_boundary(model, frame[["b", "a"]], y, resolution=20)
    assert figure.axes[0].get_title() == "accuracy 100.0%"
    np.testing.assert_array_equal(figure.axes[0].collections[-1].get_offsets(), frame.to_numpy())
    with pytest.raises(ValueError, match=r"missing \['a', 'b'\], unexpected \['x', 'y'\]"):
        plot_decision_boundary(model, frame.set_axis(["x", "y"], axis=1), y)

    live = LivePlot(boundary=(frame[["b", "a"]], y), resolution=20)
    model.fit(frame, y, epochs=1, learning_rate=0.01, callbacks=[live])
    assert live.figure().axes[-1].get_title() == "accuracy 100.0%"
    other = LivePlot(boundary=(frame.set_axis(["x", "y"], axis=1), y))
    with pytest.raises(ValueError, match=r"unexpected \['x', 'y'\]"):
        model.fit(frame, y, epochs=1, callbacks=[other])
    assert model.history.epochs == 301  # refused before its first epoch


def test_a_figure_save_that_fails_midway_leaves_the_old_figure(tmp_path, monkeypatch):
    """A figure was written in place: a save that failed halfway (a full disk) left the
    previous figure cut short under its name, and the error named no file."""
    import errno
    import functools

    from matplotlib.backends import backend_agg

    path = tmp_path / "curve.png"
    plot_loss_curve([1.0, 0.5, 0.25], path=path)
    before = path.read_bytes()
    real = backend_agg.FigureCanvasAgg.print_png

    @functools.wraps(real)  # matplotlib passes only the options the signature names
    def full_disk(self, target, *args, **kwargs):
        real(self, target, *args, **kwargs)  # the bytes go out, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backend_agg.FigureCanvasAgg, "print_png", full_disk)
    with pytest.raises(OSError, match=r"curve\.png"):
        plot_loss_curve([3.0, 2.0, 1.0, 0.5], path=path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


@pytest.mark.parametrize("name", ["figure", "figure.", "figure.pdf", "figure.svg", "figure.jpg"])
def test_a_figure_is_saved_in_the_format_its_name_gives(tmp_path, name):
    starts = {"png": PNG_SIGNATURE, "pdf": b"%PDF", "svg": b"<?xml", "jpg": b"\xff\xd8"}
    plot_loss_curve([1.0, 0.5], path=tmp_path / name)
    (written,) = tmp_path.iterdir()
    extension = written.suffix[1:]
    assert written.name == ("figure.png" if extension == "png" else name)
    assert written.read_bytes().startswith(starts[extension])


def test_a_figure_path_linking_to_a_data_file_never_replaces_it(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,0\n")
    link = tmp_path / "fig.png"
    link.symlink_to(data)
    history = MLP(hidden=(2,), seed=0).fit(*make_moons(20, random_state=0), epochs=2).history
    with pytest.raises(ValueError, match=r"fig\.png' links to .*train\.csv', which is no \.png"):
        plot_loss_curve(history, path=link)
    assert data.read_text() == "x,y\n1,0\n"
    (tmp_path / "old.png").write_bytes(b"old")
    (tmp_path / "latest.png").symlink_to(tmp_path / "old.png")  # a link to a figure is fine
    plot_loss_curve(history, path=tmp_path / "latest.png")
    assert (tmp_path / "old.png").read_bytes().startswith(b"\x89PNG")


def test_a_path_without_extension_whose_png_links_to_a_data_file_never_replaces_it(tmp_path):
    # "fig" is saved as "fig.png", so it is that link which must not be written through.
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,0\n")
    (tmp_path / "fig.png").symlink_to(data)
    with pytest.raises(ValueError, match=r"saved as .*fig\.png', links to .*train\.csv'"):
        plot_loss_curve([1.0, 0.5], path=tmp_path / "fig")
    assert data.read_text() == "x,y\n1,0\n"


def test_a_figure_in_a_folder_that_is_a_file_says_so(tmp_path):
    """mkdir's "[Errno 17] File exists: 'data.csv'" named the file but not the problem."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    with pytest.raises(NotADirectoryError, match=f"{data} is a file, not a folder"):
        plot_loss_curve([1.0, 0.5], path=data / "figures" / "curve.png")
    assert data.read_text() == "a,b\n"


def test_epochs_and_steps_are_labelled_with_whole_numbers_only():
    """A fit of three epochs was drawn over ticks 1.00, 1.25, 1.50, ..., twenty epochs over
    2.5, 7.5, ..., and one epoch over 0.945 to 1.05: epochs and steps that do not exist."""
    from mlpzero.plotting import plot_diagnostics

    def ticks(ax):
        ax.figure.canvas.draw()
        low, high = ax.get_xlim()
        return [t for t in ax.get_xticks() if low <= t <= high]

    X, y = make_moons(40, noise=0.2, random_state=0)
    live = LivePlot()
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=3, callbacks=[live])
    history = {"loss": [1.0 / (e + 1) for e in range(20)], "accuracy": [0.5] * 20}
    records = {
        "step": [1, 2, 3],
        "epoch": [0, 0, 0],
        "gradient_norm": [[1.0, 2.0]] * 3,
        "update_ratio": [[1e-3, 1e-3]] * 3,
        "dead_relu": [[0.1]] * 3,
        "saturated": [[0.2]] * 3,
    }
    axes = [
        plot_loss_curve(model).axes[0],
        *plot_learning_curves(history).axes,
        live.figure().axes[0],
        *plot_diagnostics(records).axes,
    ]
    for ax in axes:
        shown = ticks(ax)
        assert len(shown) >= 2 and all(t == round(t) for t in shown), shown
    assert ticks(plot_loss_curve([0.5]).axes[0]) == [1.0]  # one epoch: one tick, at 1
