"""Each evaluation figure is drawn from a real model and written as a PNG."""

import re

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.datasets import load_digits
from mlpzero.plotting.evaluation import (
    plot_confusion_matrix,
    plot_first_layer_weights,
    plot_learning_curves,
    plot_misclassified,
    plot_predicted_vs_true,
    plot_regression_fit,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 2000  # something was drawn


@pytest.fixture(scope="module")
def digits_model():
    X, y = load_digits()
    X_train, y_train, X_test, y_test = X[:1200], y[:1200], X[1200:], y[1200:]
    model = MLP(hidden=(32,), seed=0).fit(
        X_train, y_train, epochs=15, learning_rate=0.1, batch_size=32
    )
    return model, X_test, y_test


def test_learning_curves_with_validation_metrics(tmp_path):
    history = {
        "loss": [1.0, 0.6, 0.4, 0.3],
        "val_loss": [1.1, 0.7, 0.5, 0.55],
        "accuracy": [0.5, 0.7, 0.8, 0.9],
        "val_accuracy": [0.45, 0.65, 0.8, 0.78],
    }
    figure = plot_learning_curves(history, path=tmp_path / "curves.png")
    assert_png(tmp_path / "curves.png")
    loss_ax, accuracy_ax = figure.axes
    assert [line.get_label() for line in loss_ax.lines][:2] == ["training", "validation"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), history["val_loss"])
    assert "best 0.5 (epoch 3)" in loss_ax.texts[0].get_text()
    assert "best 0.8 (epoch 3)" in accuracy_ax.texts[0].get_text()


def test_learning_curves_from_a_model_without_accuracy(tmp_path):
    X = np.linspace(-1, 1, 40)[:, None]
    model = MLP(hidden=(4,), seed=0).fit(X, np.sin(3 * X[:, 0]), epochs=30, learning_rate=0.1)
    figure = plot_learning_curves(model, path=tmp_path / "loss.png")
    assert len(figure.axes) == 1
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), model.history["loss"])
    assert_png(tmp_path / "loss.png")
    with pytest.raises(ValueError, match="no 'loss'"):
        plot_learning_curves({"loss": []})
    with pytest.raises(TypeError, match="history must be"):
        plot_learning_curves(3)


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ({"loss": [[1.0, 0.5], [0.4, 0.3]]}, r"history\['loss'\] must be one value.*\(2, 2\)"),
        ({"loss": 3.0}, r"history\['loss'\] must be one value per epoch.*shape \(\)"),
        ({"loss": [1.0, 0.5], "val_accuracy": [[0.5], [0.6]]}, r"history\['val_accuracy'\]"),
        ({"loss": [1.0, 0.5], "accuracy": ["a", "b"]}, r"history\['accuracy'\] must hold numbers"),
    ],
)
def test_learning_curves_name_a_series_that_is_no_list_of_numbers(history, message):
    # These failed inside NumPy (arrays of other dimensions, an index into a scalar, a
    # string that is no float), naming no key of the history.
    with pytest.raises(ValueError, match=message):
        plot_learning_curves(history)


def test_confusion_matrix_figure(tmp_path, digits_model):
    model, X, y = digits_model
    predicted = model.predict(X)
    figure = plot_confusion_matrix(y, predicted, path=tmp_path / "confusion.png")
    assert_png(tmp_path / "confusion.png")
    ax = figure.axes[0]
    shown = ax.images[0].get_array()
    assert shown.sum() == len(y)
    accuracy = np.mean(predicted == y)
    assert f"accuracy {accuracy:.1%}" in ax.get_title()
    figure = plot_confusion_matrix(["a", "b", "a"], ["a", "a", "a"], normalize=True)
    np.testing.assert_allclose(figure.axes[0].images[0].get_array(), [[1, 0], [1, 0]])


def tile(figure, index, shape):
    """Pixels of tile ``index`` in the figure's mosaic image, located by its caption."""
    ax = figure.axes[0]
    mosaic = ax.images[0].get_array()
    caption = ax.texts[index]
    x, y = caption.get_position()  # centred above the tile
    top, left = round(y + 0.7), round(x + 0.5 - shape[1] / 2)
    return mosaic[top : top + shape[0], left : left + shape[1]]


def test_confusion_matrix_of_no_labels_is_refused_by_name():
    # It failed on "max() arg is an empty sequence", from the tick labels.
    with pytest.raises(ValueError, match=r"y_true and y_pred hold no labels"):
        plot_confusion_matrix([], [])
    with pytest.raises(ValueError, match=r"y_true and y_pred hold no labels"):
        plot_confusion_matrix([], [], labels=[])


def test_confusion_matrix_normalize_must_be_a_bool():
    """``normalize="no"`` is true: read as a truth value, it normalised."""
    with pytest.raises(TypeError, match="normalize must be True or False, got str 'no'"):
        plot_confusion_matrix([0, 1], [0, 1], normalize="no")


def test_misclassified_grid(tmp_path, digits_model):
    model, X, y = digits_model
    predicted = model.predict(X)
    wrong = np.flatnonzero(predicted != y)
    assert len(wrong) > 0  # a briefly trained model does make mistakes
    figure = plot_misclassified(X, y, predicted, max_images=12, path=tmp_path / "wrong.png")
    assert_png(tmp_path / "wrong.png")
    captions = [text.get_text() for text in figure.axes[0].texts]
    shown = wrong[:12]
    assert captions == [f"{y[i]} -> {predicted[i]}" for i in shown]
    for k in (0, len(shown) - 1):
        np.testing.assert_array_equal(tile(figure, k, (8, 8)), X[shown[k]].reshape(8, 8))
    assert f"{len(wrong)} of {len(X)} misclassified" in figure._suptitle.get_text()


def test_misclassified_none_and_bad_shapes(tmp_path):
    X = np.zeros((3, 6))
    figure = plot_misclassified(
        X, [1, 2, 3], [1, 2, 3], image_shape=(2, 3), path=tmp_path / "n.png"
    )
    assert "0 of 3" in figure._suptitle.get_text()
    assert_png(tmp_path / "n.png")
    with pytest.raises(ValueError, match="square image; pass image_shape"):
        plot_misclassified(X, [0, 1, 2], [1, 1, 1])
    with pytest.raises(ValueError, match="holds 4 pixels"):
        plot_misclassified(X, [0, 1, 2], [1, 1, 1], image_shape=(2, 2))
    with pytest.raises(ValueError, match="same number of rows"):
        plot_misclassified(X, [0, 1], [1, 1, 1], image_shape=(2, 3))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        # columns=10**9 asked for a mosaic of 261 GiB; 0 and True were taken for others.
        ({"columns": 0}, ValueError, r"columns must be >= 1, got 0"),
        ({"columns": True}, TypeError, r"columns must be an integer, got bool True"),
        ({"image_shape": (-2, -3)}, ValueError, r"image_shape\[0\] must be >= 1, got -2"),
        ({"image_shape": (2.9, 3)}, TypeError, r"image_shape\[0\] must be an integer, got float"),
    ],
)
def test_image_grids_name_a_bad_layout(options, error, message):
    X = np.zeros((3, 6))
    with pytest.raises(error, match=message):
        plot_misclassified(X, [0, 1, 2], [1, 1, 1], **{"image_shape": (2, 3), **options})


def test_image_grids_take_no_more_columns_than_images():
    X = np.arange(18.0).reshape(3, 6)
    figure = plot_misclassified(X, [0, 1, 2], [1, 2, 0], image_shape=(2, 3), columns=10**9)
    assert figure.axes[0].images[0].get_array().shape[1] == 3 * 4 - 1  # three tiles wide


def test_misclassified_refuses_labels_of_two_kinds():
    """Numbers against strings (labels read from text, say) never compare equal: every
    image was shown as a mistake, "3 of 3 misclassified". The confusion matrix refuses
    them; so does this figure now."""
    X = np.arange(12.0).reshape(3, 4)
    with pytest.raises(ValueError, match=r"y_true holds numbers .* and y_pred strings"):
        plot_misclassified(X, [0, 1, 2], ["0", "1", "2"], image_shape=(2, 2))
    figure = plot_misclassified(X, [[0], [1], [2]], [0, 1, 1], image_shape=(2, 2))
    assert figure._suptitle.get_text() == "1 of 3 misclassified"


def test_first_layer_weights_as_images(tmp_path, digits_model):
    model = digits_model[0]
    figure = plot_first_layer_weights(model, max_units=16, path=tmp_path / "weights.png")
    assert_png(tmp_path / "weights.png")
    assert [text.get_text() for text in figure.axes[0].texts] == [str(j) for j in range(16)]
    w = model.network.weights[0][5].astype(np.float64)
    np.testing.assert_allclose(tile(figure, 5, (8, 8)), w.reshape(8, 8) / np.abs(w).max())
    with pytest.raises(TypeError, match="fitted MLP or a Network"):
        plot_first_layer_weights(object())


def test_first_layer_weights_of_an_unfitted_model_say_it_is_not_fitted():
    # It said "model must be a fitted MLP or a Network, got MLP": an MLP, refused as one.
    with pytest.raises(RuntimeError, match="not fitted yet"):
        plot_first_layer_weights(MLP(hidden=(4,)))


def test_predicted_vs_true_and_regression_fit(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (200, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.standard_normal(200)
    model = MLP(hidden=(32, 32), activation="tanh", seed=0).fit(
        X, y, epochs=200, learning_rate=0.05, batch_size=32
    )
    predicted = model.predict(X)
    figure = plot_predicted_vs_true(y, predicted, path=tmp_path / "pvt.png")
    assert_png(tmp_path / "pvt.png")
    ax = figure.axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], y)
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], predicted)
    r2 = float(ax.get_title().split("= ")[1])
    assert r2 > 0.95
    figure = plot_regression_fit(model, X, y, truth=np.sin, path=tmp_path / "fit.png")
    assert_png(tmp_path / "fit.png")
    curve = figure.axes[0].lines[-1]
    np.testing.assert_allclose(curve.get_ydata(), model.predict(curve.get_xdata()[:, None]))
    with pytest.raises(ValueError, match="one input feature"):
        plot_regression_fit(model, np.zeros((3, 2)), [0, 0, 0])
    with pytest.raises(ValueError, match=r"the same number of values, got shapes \(2,\)"):
        plot_predicted_vs_true([1, 2], [1, 2, 3])


def test_regression_fit_refuses_a_classifier():
    """A classifier's predicted labels were drawn as the model's curve, with the R² of
    the labels in the title; string labels failed on a float conversion."""
    X = np.random.default_rng(0).standard_normal((60, 1))
    y = (X[:, 0] > 0).astype(int)
    for labels in (y, np.array(["low", "high"])[y]):
        model = MLP(hidden=(4,), seed=0).fit(X, labels, epochs=5)
        with pytest.raises(ValueError, match=r"regression model.*got a binary model"):
            plot_regression_fit(model, X, labels)


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [
        (3.0, 3.0, "y_true must hold one value per sample"),  # was an IndexError
        ([1.0, np.nan], [1.0, 2.0], "y_true holds nan at index 1"),
        ([1.0, 2.0], [[1.0], [2.0, 3.0]], "y_pred must hold numbers, one row per sample"),
    ],
)
def test_predicted_vs_true_names_values_it_cannot_plot(y_true, y_pred, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plot_predicted_vs_true(y_true, y_pred)


def test_predicted_vs_true_two_outputs(tmp_path):
    y = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 2.5]])
    figure = plot_predicted_vs_true(y, y + 0.1, path=tmp_path / "two.png")
    assert len(figure.axes[0].collections) == 2
    assert_png(tmp_path / "two.png")


def test_validation_curves_stay_on_their_epochs_after_a_second_fit(tmp_path):
    # 30 epochs without validation data, then 20 with: the validation values belong to
    # epochs 31..50, not 1..20, and the best one is named by its epoch.
    X = np.linspace(-1, 1, 40)[:, None]
    y = (X[:, 0] > 0.1).astype(int)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=30, learning_rate=0.5)
    model.fit(X, y, epochs=20, learning_rate=0.5, validation_data=(X[::2], y[::2]))
    assert len(model.history["val_loss"]) == len(model.history["loss"]) == 50
    assert np.isnan(model.history["val_loss"][:30]).all()
    figure = plot_learning_curves(model, path=tmp_path / "curves.png")
    loss_ax = figure.axes[0]
    validation = loss_ax.lines[1]
    assert validation.get_label() == "validation"
    finite = np.isfinite(validation.get_ydata())
    np.testing.assert_array_equal(validation.get_xdata()[finite], np.arange(31, 51))
    best = 31 + int(np.argmin(model.history["val_loss"][30:]))
    assert f"(epoch {best})" in loss_ax.texts[0].get_text()
    assert loss_ax.get_yscale() == "log"
    assert model.history.best_epoch() == best - 1


def test_misclassified_images_are_not_copied_whole():
    """60,000 images of uint8 were converted whole to float64 (8 times their size) to
    draw at most max_images of them."""
    from conftest import traced_peak

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(60_000, 64), dtype=np.uint8)
    y = np.arange(60_000) % 10
    predicted = np.where(np.arange(60_000) % 7 == 0, (y + 1) % 10, y)
    plot_misclassified(X[:10], y[:10], predicted[:10])  # warm-up: matplotlib's own first costs
    figures = []
    peak = traced_peak(lambda: figures.append(plot_misclassified(X, y, predicted, max_images=4)))
    assert peak < X.nbytes, f"peaked at {peak} bytes for {X.nbytes} bytes of images"
    np.testing.assert_array_equal(tile(figures[0], 1, (8, 8)), X[7].reshape(8, 8))


def test_first_layer_weights_of_a_wide_layer_are_not_copied_whole():
    """A float64 copy of the whole first layer was made to draw max_units of its units:
    8,192 units of 784 weights (25 MB in float32) for 64 tiles, a peak of 53 MB."""
    from conftest import traced_peak
    from mlpzero import Network

    network = Network([784, 8192, 10], "relu", rng=0)
    plot_first_layer_weights(network, max_units=4)  # warm-up: matplotlib's own first costs
    figures = []
    peak = traced_peak(lambda: figures.append(plot_first_layer_weights(network)))
    assert peak < network.weights[0].nbytes / 4, f"peaked at {peak} bytes"
    first = network.weights[0][1] / np.abs(network.weights[0][1]).max()
    np.testing.assert_allclose(tile(figures[0], 1, (28, 28)), first.reshape(28, 28))


def test_confusion_matrix_of_many_classes_names_a_few_ticks_each_by_its_class():
    """One tick label per class: 3000 classes took over half a minute to save, as a black
    smear of overlapping labels. A few ticks now, each naming the class at its position."""
    k = 400
    labels = np.array([f"c{i:03d}" for i in range(k)])[::-1]  # not the sorted order
    truth = labels[np.arange(k)]
    figure = plot_confusion_matrix(truth, np.roll(truth, 1), labels=labels)
    figure.canvas.draw()
    ax = figure.axes[0]
    for ticks, texts in (
        (ax.get_xticks(), ax.get_xticklabels()),
        (ax.get_yticks(), ax.get_yticklabels()),
    ):
        named = [(t, x.get_text()) for t, x in zip(ticks, texts, strict=True) if x.get_text()]
        assert 3 <= len(named) <= 30
        for position, text in named:
            assert position == int(position) and text == labels[int(position)]
    small = plot_confusion_matrix(["b", "a", "c"], ["b", "b", "c"], labels=["c", "b", "a"])
    assert [t.get_text() for t in small.axes[0].get_xticklabels()] == ["c", "b", "a"]


def test_regression_fit_names_y_or_the_model_when_they_give_other_than_one_value():
    """Numpy's "cannot reshape array of size 60 into shape (30,)" was all it said."""
    X = np.linspace(-1, 1, 30)[:, None]
    two = np.column_stack([X[:, 0] ** 2, X[:, 0]])
    one_output = MLP(hidden=(4,), seed=0).fit(X, two[:, 0], epochs=2)
    with pytest.raises(
        ValueError, match=r"y must hold one value per row of X \(30\), got shape \(30, 2\)"
    ):
        plot_regression_fit(one_output, X, two)
    with pytest.raises(
        ValueError, match=r"y must hold one value per row of X \(30\), got shape \(29,\)"
    ):
        plot_regression_fit(one_output, X, two[:-1, 0])
    two_outputs = MLP(hidden=(4,), seed=0).fit(X, two, epochs=2)
    with pytest.raises(
        ValueError, match=r"model must give one value per point, got shape \(400, 2\)"
    ):
        plot_regression_fit(two_outputs, X, two[:, 0])
