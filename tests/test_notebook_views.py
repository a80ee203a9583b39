"""What mlpzero shows in a notebook: HTML tables, the live plot, progress bars, and the
diagnostics figure. The notebook environment is faked: a stand-in ``IPython`` module whose
shell has a kernel, and a stand-in display that records what it is given."""

import sys
import types
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.figure import Figure

from mlpzero import MLP, progress
from mlpzero.callbacks import Diagnostics
from mlpzero.datasets import make_moons
from mlpzero.history import History
from mlpzero.plotting import LivePlot, plot_diagnostics
from mlpzero.progress import ProgressLogger


class Tables(HTMLParser):
    """Collects the text of each table cell, table by table, and the captions."""

    def __init__(self):
        super().__init__()
        self.tables, self.captions, self._cell, self._in_caption = [], [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "caption":
            self._in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_caption:
            self.captions[-1] += data


def parse(markup):
    parser = Tables()
    parser.feed(markup)
    parser.close()
    return parser


# ---------------------------------------------------------------------- HTML views
def test_mlp_html_lists_layers_shapes_and_facts_escaped():
    X, y = make_moons(60, noise=0.2, random_state=0)
    labels = np.where(y == 1, "<b>yes</b>", "no & maybe")
    model = MLP(hidden=(5, 3), seed=0).fit(X, labels, epochs=3)
    page = parse(model._repr_html_())
    facts, layers = dict(page.tables[0]), page.tables[1]
    assert facts["task"] == "binary" and facts["dtype"] == "float32"
    assert facts["classes"] == "<b>yes</b>, no & maybe"  # shown as text, not markup
    assert "<b>" not in model._repr_html_()
    assert facts["parameters"] == str(2 * 5 + 5 + 5 * 3 + 3 + 3 + 1)
    assert facts["fitted"] == "yes, 3 epochs"
    assert layers[0] == ["layer", "output shape", "activation", "init", "params"]
    assert [row[1] for row in layers[1:]] == ["(None, 2)", "(None, 5)", "(None, 3)", "(None, 1)"]
    assert [row[2] for row in layers[2:]] == ["relu", "relu", "sigmoid"]
    # The same rows as the text summary.
    text = model.summary()
    assert all(
        " ".join(row).split() == line.split()
        for row, line in zip(layers[1:], text.splitlines()[2:], strict=False)
    )


def test_mlp_html_of_many_classes_lists_a_few_and_counts_them():
    X = np.random.default_rng(0).standard_normal((3000, 2))
    model = MLP(hidden=(2,), seed=0).build(X, np.arange(3000))
    markup = model._repr_html_()
    assert len(markup) < 5000
    classes = dict(parse(markup).tables[0])["classes"]
    assert classes == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ..., 2998, 2999 (3,000 in all)"


def test_mlp_html_before_fitting_says_so():
    page = parse(MLP(hidden=(4,))._repr_html_())
    facts = dict(page.tables[0])
    assert facts["built"].startswith("no")
    built = MLP(hidden=(4,)).build(*make_moons(20, random_state=0))
    assert dict(parse(built._repr_html_()).tables[0])["fitted"] == "no"


def test_mlp_html_names_a_loss_setting_that_is_not_the_default():
    X, y = make_moons(20, random_state=0)
    plain = MLP(hidden=(3,)).build(X, y)
    clipped = MLP(hidden=(3,), loss={"name": "binary_crossentropy", "epsilon": 1e-7}).build(X, y)
    assert dict(parse(plain._repr_html_()).tables[0])["loss"] == "binary_crossentropy"
    facts = dict(parse(clipped._repr_html_()).tables[0])
    assert facts["loss"] == "binary_crossentropy (epsilon=1e-07)"


def test_history_html_shows_last_values_and_best_epoch():
    history = History()
    for loss, val in [(0.9, 0.8), (0.5, 0.4), (0.3, 0.6)]:
        history.append({"loss": loss, "val_loss": val, "val_accuracy": 1 - val})
    assert history.best_epoch() == 1  # by val_loss
    assert history.best_epoch("loss") == 2 and history.best_epoch("val_accuracy") == 1
    page = parse(history._repr_html_())
    assert page.captions == ["History: 3 epochs, best epoch 2 of 3 (by val_loss)"]
    rows = {row[0]: row[1:] for row in page.tables[0][1:]}
    assert rows == {
        "loss": ["0.3", "0.5"],
        "val_loss": ["0.6", "0.4"],
        "val_accuracy": ["0.4", "0.6"],
    }
    assert History().best_epoch() is None
    with pytest.raises(ValueError, match="accuracy"):
        history.best_epoch("accuracy")


def test_history_html_leaves_unmeasured_values_blank():
    # The last epoch, of a fit without validation data, did not measure val_loss; the
    # best epoch (by val_loss) did not measure lr: blank, not "nan", which reads as a
    # diverged value.
    history = History()
    history.append({"loss": 0.9, "val_loss": 0.8})
    history.append({"loss": 0.5, "lr": 0.1})
    rows = {row[0]: row[1:] for row in parse(history._repr_html_()).tables[0][1:]}
    assert rows == {"loss": ["0.5", "0.9"], "val_loss": ["", "0.8"], "lr": ["0.1", ""]}


# ---------------------------------------------------------------------- a fake notebook
class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj):
        self.shown.append(("update", obj))


@pytest.fixture
def notebook(monkeypatch):
    """A stand-in Jupyter kernel: ``IPython.get_ipython()`` has a kernel and
    ``IPython.display`` records what is displayed. Returns that record."""
    shown = []
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    ipython.version_info = (9, 0, 0)  # matplotlib reads it when it makes a canvas
    display = types.ModuleType("IPython.display")

    def show(obj, display_id=False):
        shown.append(("display", obj))
        return FakeHandle(shown) if display_id else None

    display.display = show
    display.Image = lambda data, format: ("image", format, data)
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return shown


def test_liveplot_outside_a_notebook_shows_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # as if IPython were not installed
    X, y = make_moons(60, noise=0.2, random_state=0)
    live = LivePlot(boundary=(X, y), path=tmp_path / "curves.png")
    MLP(hidden=(4,)).fit(X, y, epochs=5, validation_split=0.2, callbacks=[live])
    assert live.redraws == 0
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")  # asked for
    assert sorted(live.series) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert [epoch for epoch, _ in live.series["loss"]] == [1, 2, 3, 4, 5]
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []  # no window, no pyplot figure


def test_liveplot_in_a_notebook_updates_one_picture_in_place(notebook):
    X, y = make_moons(60, noise=0.2, random_state=0)
    live = LivePlot(metrics=("loss",), boundary=(X, y), every=0.0, max_share=1.0)
    MLP(hidden=(4,)).fit(X, y, epochs=3, callbacks=[live])
    kinds = [kind for kind, _ in notebook]
    assert kinds[0] == "display" and kinds.count("display") == 1
    assert kinds[1:] == ["update"] * (live.redraws - 1) and live.redraws >= 2
    _, fmt, data = notebook[-1][1]
    assert fmt == "png" and data.startswith(b"\x89PNG")


def test_liveplot_names_a_chosen_metric_that_was_never_logged():
    X, y = make_moons(40, noise=0.2, random_state=0)
    quiet = LivePlot()  # the default val_ metrics, without validation: left out quietly
    MLP(hidden=(4,)).fit(X, y, epochs=2, callbacks=[quiet])
    assert sorted(quiet.series) == ["accuracy", "loss"]
    typo = LivePlot(metrics=("loss", "acc"))
    with pytest.warns(UserWarning, match=r"acc never logged, so not drawn\. This fit logged: "):
        MLP(hidden=(4,)).fit(X, y, epochs=2, callbacks=[typo])
    nothing = LivePlot(metrics=("val_loss",))
    with pytest.warns(UserWarning, match="val_loss never logged, so not drawn; nothing was drawn"):
        MLP(hidden=(4,)).fit(X, y, epochs=2, callbacks=[nothing])
    named = LivePlot(metrics=("loss", "val_loss"))  # named, so expected, default or not
    with pytest.warns(UserWarning, match=r"val_loss never logged, so not drawn\. This fit"):
        MLP(hidden=(4,)).fit(X, y, epochs=2, callbacks=[named])


def test_liveplot_draws_the_boundary_panel_with_the_plotting_code():
    X, y = make_moons(40, noise=0.2, random_state=0)
    live = LivePlot(boundary=(X, y))
    model = MLP(hidden=(4,)).fit(X, y, epochs=2, callbacks=[live])
    live.set_model(model)
    figure = live.figure()
    assert isinstance(figure, Figure) and len(figure.axes) == 3  # loss, accuracy, boundary
    assert figure.axes[2].get_title().startswith("accuracy")  # plot_decision_boundary's


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"path": "curves.csv"}, ValueError, r"path='curves.csv': cannot save a figure as 'csv'"),
        ({"path": 5}, TypeError, r"path must be a file path, got int 5"),
        ({"resolution": 2.9}, TypeError, r"resolution must be an integer, got float 2.9"),
        ({"resolution": True}, TypeError, r"resolution must be an integer, got bool True"),
        ({"resolution": 1}, ValueError, r"resolution must be >= 2, got 1"),
    ],
)
def test_liveplot_refuses_a_bad_path_or_resolution_before_training(options, error, message):
    """A bad path failed only when saving, after the whole fit; a resolution of 2.9
    drew 2 points per axis, and True failed at the first redraw."""
    with pytest.raises(error, match=message):
        LivePlot(**options)


def test_liveplot_refuses_a_path_saved_into_a_folder_before_training(tmp_path):
    # path="curves" is saved as curves.png, here a folder: refused before the fit, not
    # with an IsADirectoryError after it.
    (tmp_path / "curves.png").mkdir()
    with pytest.raises(ValueError, match=r"saved as .*curves\.png', is a folder"):
        LivePlot(path=tmp_path / "curves")


def test_liveplot_drawing_stays_a_small_share_of_training_time(notebook):
    # A fake clock: each epoch of training takes 10 ms, each redraw 200 ms.
    now = [0.0]
    live = LivePlot(metrics=("loss",), every=0.0, max_share=0.05, clock=lambda: now[0])
    live._render = lambda figure: now.__setitem__(0, now[0] + 0.2)
    live.figure = lambda: None
    live.on_train_begin()
    for epoch in range(2000):
        now[0] += 0.01
        live.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    live.on_train_end({})
    training = 2000 * 0.01
    assert live.draw_seconds == pytest.approx(0.2 * live.redraws)
    assert 2 <= live.redraws
    # Within max_share of the elapsed time, plus the first and the last redraw.
    assert live.draw_seconds <= 0.05 * (training + live.draw_seconds) + 2 * 0.2
    assert live.draw_seconds / (training + live.draw_seconds) < 0.08


def test_liveplot_every_sets_the_least_gap_between_redraws(notebook):
    now = [0.0]
    live = LivePlot(every=1.0, clock=lambda: now[0])
    live._render = lambda figure: None  # free drawing: only `every` throttles
    live.figure = lambda: None
    live.on_train_begin()
    for epoch in range(80):
        now[0] += 0.125  # ten seconds in all
        live.on_epoch_end(epoch, {"loss": 1.0})
    assert live.redraws == 10  # at 1, 2, ..., 10 s: the first one `every` after the start


def test_liveplot_checks_its_arguments():
    with pytest.raises(TypeError, match="metrics must be a sequence of metric names"):
        LivePlot(metrics="loss")
    with pytest.raises(ValueError, match=r"X must have 2 columns, got shape \(3, 3\)"):
        LivePlot(boundary=(np.zeros((3, 3)), [0, 1, 0]))
    with pytest.raises(ValueError, match="max_share"):
        LivePlot(max_share=0)


# ---------------------------------------------------------------------- progress bars
def test_progress_bar_is_plain_text_outside_a_kernel(monkeypatch):
    from tqdm.std import tqdm

    monkeypatch.setitem(sys.modules, "IPython", None)
    assert not progress.in_jupyter_kernel()
    assert progress.bar_class() is tqdm


def test_progress_bar_in_a_kernel_with_ipywidgets_is_the_notebook_bar(notebook, monkeypatch):
    from tqdm.notebook import tqdm

    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    assert progress.in_jupyter_kernel()
    assert progress.bar_class() is tqdm


def test_progress_bar_in_a_kernel_without_ipywidgets_is_text_and_silent(notebook, monkeypatch):
    from tqdm.std import tqdm

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets fails
    assert progress.bar_class() is tqdm
    logger = ProgressLogger(epochs=3, verbose=1, delay=0.0)
    logger.set_model(None)
    logger.on_train_begin()  # warnings are errors in this suite: none is raised
    assert type(logger.bar) is tqdm
    logger.on_train_end({})


# ---------------------------------------------------------------------- the figure
def test_plot_diagnostics_draws_one_line_per_applicable_layer(monkeypatch):
    X, y = make_moons(60, noise=0.2, random_state=0)
    model = MLP(hidden=(4, 3), activation=["relu", "tanh"], seed=0)
    model.fit(X, y, epochs=4, batch_size=20, callbacks=[Diagnostics(every=2)])
    figure = plot_diagnostics(model)
    assert isinstance(figure, Figure)
    grads, ratios, dead, saturated = figure.axes[:4]
    assert len(grads.lines) == 3  # three weight layers
    assert ratios.get_legend_handles_labels()[1] == ["layer 1", "layer 2", "layer 3"]
    assert len(ratios.get_lines()[0].get_xdata()) == 6  # steps 1, 3, ..., 11 of 12
    assert len(dead.lines) == 1 and dead.get_legend_handles_labels()[1] == ["layer 1"]
    assert saturated.get_legend_handles_labels()[1] == ["layer 2"]
    relu_only = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, callbacks=[Diagnostics(every=1)])
    texts = [t.get_text() for t in plot_diagnostics(relu_only.history).axes[3].texts]
    assert texts == ["no layer of this kind"]


def test_plot_diagnostics_without_records_says_how_to_get_them():
    with pytest.raises(ValueError, match=r"callbacks=\[Diagnostics"):
        plot_diagnostics(History())
    with pytest.raises(TypeError, match="got int"):
        plot_diagnostics(3)


def test_plot_diagnostics_takes_a_dict_of_arrays():
    """Records as NumPy arrays (such as a saved dict loaded back): their steps were tested
    for truth, "the truth value of an array ... is ambiguous"."""
    records = {
        "step": np.array([1, 11]),
        "epoch": np.array([0, 1]),
        "gradient_norm": np.array([[0.5, 0.2], [0.4, 0.1]]),
        "update_ratio": np.array([[1e-3, 2e-3], [1e-3, 1e-3]]),
        "dead_relu": np.array([[0.25], [0.5]]),
        "saturated": np.array([[np.nan], [np.nan]]),
    }
    grads = plot_diagnostics(records).axes[0]
    np.testing.assert_array_equal(grads.lines[0].get_xdata(), [1, 11])
    with pytest.raises(ValueError, match=r"callbacks=\[Diagnostics"):
        plot_diagnostics({**records, "step": np.array([])})
