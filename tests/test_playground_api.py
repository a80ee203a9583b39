"""The playground's server API: page files, WebSocket frames, validation, export."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mlpzero import MLP
from mlpzero.playground import data
from mlpzero.playground.server import MAX_MESSAGE_BYTES, create_app
from mlpzero.playground.session import OUTPUT_GRID, THUMBNAIL_GRID, Session
from mlpzero.playground.settings import LIMITS, Settings, SettingsError, parse_settings


def _strict_loads(text: str):
    """JSON as a browser reads it: NaN and Infinity are errors."""

    def refuse(token):
        raise AssertionError(f"non-JSON number {token} in a message")

    return json.loads(text, parse_constant=refuse)


class Page:
    """A WebSocket conversation with the server, as the page has it."""

    def __init__(self, ws):
        self.ws = ws
        self.hello = self.receive()
        assert self.hello["type"] == "hello"
        self.session = self.hello["session"]

    def receive(self):
        return _strict_loads(self.ws.receive_text())

    def ask(self, message) -> dict:
        self.ws.send_text(message if isinstance(message, str) else json.dumps(message))
        return self.receive()

    def configure(self, **settings) -> dict:
        return self.ask({"type": "configure", "settings": settings})

    def step(self, epochs=1) -> dict:
        return self.ask({"type": "step", "epochs": epochs})


#: The address the test client talks to: the playground answers only to loopback names.
BASE = "http://127.0.0.1:8765"
WS = "ws://127.0.0.1:8765/ws"


def _client(app) -> TestClient:
    return TestClient(app, base_url=BASE)


@pytest.fixture
def client():
    with _client(create_app()) as client:
        yield client


@pytest.fixture
def page(client):
    with client.websocket_connect(WS) as ws:
        yield Page(ws)


def _bytes(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8)


# ---------------------------------------------------------------------- page files
def test_serves_the_page_and_its_two_files(client):
    index = client.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js">' in index.text
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "new WebSocket" in js.text


def test_other_sites_cannot_frame_the_page(client):
    """A page of another site that framed the playground would get sessions of its own
    (the framed page is same-origin), and could hide it under its own buttons."""
    for path in ("/", "/static/app.js", "/static/style.css"):
        headers = client.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["content-security-policy"] == "frame-ancestors 'none'", path


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/server.py",
        "/static/..%2fserver.py",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2f__init__.py",
        "/static//etc/passwd",
        "/static/",
        "/static/index.html/",
        "/server.py",
        "/etc/passwd",
        "/static/%2fetc%2fpasswd",
    ],
)
def test_nothing_but_the_page_files_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


def test_config_lists_defaults_limits_and_names(client):
    config = client.get("/api/config").json()
    assert config["defaults"] == Settings().as_dict()
    assert config["limits"]["max_layers"] == 6 and config["limits"]["max_neurons"] == 8
    assert set(config["datasets"]["classification"]) == {
        "circle",
        "xor",
        "gauss",
        "spiral",
        "moons",
        "linear",
    }
    assert set(config["datasets"]["regression"]) == {"plane", "bump"}
    assert list(config["features"]) == ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]


# ---------------------------------------------------------------------- frames
def test_configure_then_step_gives_frames_of_the_promised_shape(page):
    frame = page.configure(dataset="xor", hidden="4,3", activation="relu", samples=200)
    assert frame["type"] == "frame" and frame["epoch"] == 0
    assert frame["settings"]["hidden"] == [4, 3] and frame["settings"]["dataset"] == "xor"
    assert len(frame["data"]["train"]) == 100 and len(frame["data"]["test"]) == 100
    assert _bytes(frame["output"]).size == OUTPUT_GRID**2
    # inputs (2 features), two hidden layers, the output
    assert [len(layer) for layer in frame["neurons"]] == [2, 4, 3, 1]
    assert all(_bytes(g).size == THUMBNAIL_GRID**2 for layer in frame["neurons"] for g in layer)
    shapes = [np.shape(w) for w in frame["weights"]]
    assert shapes == [(4, 2), (3, 4), (1, 3)]
    assert len(frame["grad_norms"]) == 3 and 0 <= frame["dead_relu"] <= 1

    assert list(frame["feature_maps"]) == list(data.FEATURES)
    x1 = _bytes(frame["feature_maps"]["x1"]).reshape(THUMBNAIL_GRID, THUMBNAIL_GRID)
    assert (x1[:, 0] == 0).all() and (x1[:, -1] == 255).all()  # x1 / max|x1|: -1 to 1
    assert (np.diff(x1.astype(int), axis=1) > 0).all() and (np.diff(x1, axis=0) == 0).all()

    later = page.step(5)
    assert later["epoch"] == 5 and "data" not in later
    assert math.isfinite(later["train_loss"]) and math.isfinite(later["test_loss"])
    assert later["weights"] != frame["weights"]
    assert page.step(2)["epoch"] == 7


def test_reset_returns_to_epoch_zero_with_the_same_initial_weights(page):
    first = page.configure(seed=3)
    page.step(4)
    again = page.ask({"type": "reset"})
    assert again["epoch"] == 0 and again["weights"] == first["weights"]


def test_output_grid_is_the_models_own_prediction():
    session = Session(parse_settings({"dataset": "circle", "hidden": "3"}))
    session.step(3)
    frame = session.frame()
    points = data.grid(OUTPUT_GRID)
    p = session.model.predict_proba(data.features(points, ["x1", "x2"]))[:, 1]
    expected = np.rint((np.clip(2 * p - 1, -1, 1) + 1) * 127.5)
    assert np.array_equal(_bytes(frame["output"]), expected.astype(np.uint8))
    # the top-left cell is (-6 + half a cell, 6 - half a cell)
    assert np.allclose(points[0], [-6 + 6 / OUTPUT_GRID, 6 - 6 / OUTPUT_GRID])


def test_gradient_norm_matches_the_hand_computed_logistic_regression_gradient():
    # No hidden layer: the model is logistic regression, dL/dW = mean((p - y) x).
    session = Session(parse_settings({"dataset": "linear", "hidden": "", "lr": 0.1}))
    session.step(2)
    frame = session.frame()
    X = session.X_train
    y = session.y_train
    w = session.model.network.weights[0].astype(np.float64)
    b = session.model.network.biases[0].astype(np.float64)
    p = 1 / (1 + np.exp(-(X @ w.T + b)))[:, 0]
    expected = np.linalg.norm(((p - y)[:, None] * X).mean(axis=0))
    assert frame["grad_norms"] == pytest.approx([expected], rel=1e-4)
    assert frame["dead_relu"] is None  # no hidden ReLU layer


def test_dead_relu_share_counts_units_silent_on_all_training_points():
    session = Session(parse_settings({"activation": "relu", "hidden": "4,4"}))
    assert session.frame()["dead_relu"] == 0.0 or session.frame()["dead_relu"] < 0.5
    network = session.model.network
    network.weights[0][1] = 0.0
    network.biases[0][1] = -1.0  # unit 2 of layer 1 outputs 0 everywhere
    network.weights[1][0] = 0.0
    network.biases[1][0] = -0.5  # unit 1 of layer 2 too
    network.weights[1][2] = 0.0
    network.biases[1][2] = 0.5  # constant but alive
    A = [np.maximum(0, session.X_train @ network.weights[0].T + network.biases[0])]
    A.append(np.maximum(0, A[0] @ network.weights[1].T + network.biases[1]))
    dead = sum(int((a.max(axis=0) <= 0).sum()) for a in A)
    assert dead >= 2
    assert session.frame()["dead_relu"] == pytest.approx(dead / 8)


def test_same_settings_replay_the_same_run(client):
    runs = []
    for _ in range(2):
        with client.websocket_connect(WS) as ws:
            page = Page(ws)
            page.configure(dataset="spiral", seed=11, optimizer="sgd", batch=7)
            page.step(3)
            runs.append(page.step(2))
    assert runs[0]["output"] == runs[1]["output"] and runs[0]["weights"] == runs[1]["weights"]
    with client.websocket_connect(WS) as ws:
        page = Page(ws)
        page.configure(dataset="spiral", seed=12, batch=7)
        assert page.step(5)["weights"] != runs[0]["weights"]


def test_view_settings_keep_the_run_and_training_settings_restart_it(page):
    page.configure(dataset="xor")
    page.step(3)
    view = page.configure(dataset="xor", show_test=True, discretize="true")
    assert view["epoch"] == 3 and view["settings"]["show_test"] is True
    restarted = page.configure(dataset="xor", show_test=True, discretize=True, lr=0.1)
    assert restarted["epoch"] == 0 and "data" in restarted


def test_regression_problem(page):
    frame = page.configure(problem="regression", dataset="bump", hidden="6,4")
    assert frame["settings"]["problem"] == "regression"
    targets = np.array(frame["data"]["train"])[:, 2]
    assert targets.min() >= -1 and targets.max() <= 1 and len(np.unique(targets)) > 10
    frame = page.step(10)
    assert math.isfinite(frame["train_loss"])
    assert page.configure(problem="regression")["settings"]["dataset"] == "plane"


def test_a_diverging_run_still_sends_valid_json(page):
    page.configure(activation="linear", lr=10, hidden="8,8,8", dataset="circle", batch=1)
    frame = page.step(3)  # _strict_loads would raise on NaN or Infinity
    assert frame["type"] == "frame"
    # the engine noticed (TrainingDivergedError): the page is told and training stops
    assert frame["diverged"].startswith("training diverged in epoch") and frame["epoch"] < 3
    assert frame["diverged"].endswith("lower the learning rate, then reset")
    error = page.step(1)
    assert error["type"] == "error" and "diverged" in error["message"]
    assert page.ask({"type": "reset"})["diverged"] is None
    page.configure(activation="linear", lr=0.01, hidden="8,8,8", dataset="circle")
    assert page.step(1)["epoch"] == 1


# ---------------------------------------------------------------------- validation
BAD_SETTINGS = [
    ({"hidden": "1,1,1,1,1,1,1"}, "hidden"),
    ({"hidden": "9"}, "hidden"),
    ({"hidden": "0"}, "hidden"),
    ({"hidden": "2,x"}, "hidden"),
    ({"lr": 0}, "lr"),
    ({"lr": "-0.1"}, "lr"),
    ({"lr": "abc"}, "lr"),
    ({"lr": "nan"}, "lr"),
    ({"lr": "inf"}, "lr"),
    ({"lr": 11}, "lr"),
    ({"batch": 0}, "batch"),
    ({"batch": LIMITS["max_batch"] + 1}, "batch"),
    ({"batch": 2.5}, "batch"),
    ({"samples": 10}, "samples"),
    ({"samples": 10**7}, "samples"),
    ({"ratio": 95}, "ratio"),
    ({"noise": 60}, "noise"),
    ({"dataset": "plane"}, "dataset"),
    ({"problem": "regression", "dataset": "xor"}, "dataset"),
    ({"dataset": "mnist"}, "dataset"),
    ({"features": ""}, "features"),
    ({"features": "x1,x3"}, "features"),
    ({"seed": -1}, "seed"),
    ({"seed": "1e99"}, "seed"),
    ({"activation": "elu"}, "activation"),
    ({"reg": "l3"}, "reg"),
    ({"reg_rate": -1}, "reg_rate"),
    ({"dropout": 0.95}, "dropout"),
    ({"show_test": "maybe"}, "show_test"),
    ({"problem": "clustering"}, "problem"),
    ({"layers": 3}, "layers"),
]


@pytest.mark.parametrize(("settings", "field"), BAD_SETTINGS)
def test_bad_settings_get_a_clear_error_and_the_session_carries_on(page, settings, field):
    good = page.configure(dataset="xor")
    error = page.ask({"type": "configure", "settings": settings})
    assert error["type"] == "error" and error["field"] == field
    assert field in error["message"]
    frame = page.step(1)  # the previous run is untouched
    assert frame["settings"] == good["settings"] and frame["epoch"] == 1


def test_settings_the_engine_refuses_leave_the_run_as_it_was(page, monkeypatch):
    from mlpzero.playground import session as session_module

    good = page.configure(dataset="moons", hidden="3")
    page.step(2)

    def refuse(*args, **kwargs):
        raise ValueError("y holds a single class")

    monkeypatch.setattr(session_module.MLP, "_build", refuse)
    error = page.configure(dataset="spiral", samples=100, ratio=10)
    assert error["type"] == "error" and error["field"] == "settings"
    assert "cannot train with these settings: y holds a single class" in error["message"]
    monkeypatch.undo()
    frame = page.step(1)
    assert frame["epoch"] == 3 and frame["settings"] == good["settings"]


def test_a_training_set_of_one_class_still_trains_and_replays(client, page):
    """The fewest samples and the smallest ratio leave two training points, often of one
    class (as here): the run is still a two-class one, drawn, trained and exported."""
    settings = {"dataset": "circle", "samples": 20, "ratio": 10, "seed": 0}
    frame = page.configure(**settings)
    assert frame["type"] == "frame", frame
    session = client.app.state.registry.get(page.session)
    assert len(set(session.y_train.tolist())) == 1 and len(set(session.y_test.tolist())) == 2
    assert session.model.classes_.tolist() == [0, 1]
    frame = page.step(3)
    assert frame["type"] == "frame" and frame["epoch"] == 3, frame
    assert math.isfinite(frame["train_loss"]) and math.isfinite(frame["test_loss"])
    assert page.ask({"type": "reset"})["epoch"] == 0
    page.step(3)
    script = client.get(f"/api/export/{page.session}/code").text
    namespace = {"__name__": "exported"}
    exec(compile(script, "exported.py", "exec"), namespace)
    assert np.array_equal(namespace["model"].network.params, session.model.network.params)


def test_parse_settings_names_what_it_refuses():
    with pytest.raises(SettingsError, match=r"lr: expected a number, got 'x'"):
        parse_settings({"lr": "x"})
    with pytest.raises(SettingsError, match=r"lr: .* greater than 0.0 and at most 10.0, got 20"):
        parse_settings({"lr": 20})
    with pytest.raises(SettingsError, match=r"batch: expected an integer from 1 to 1000, got 0"):
        parse_settings({"batch": "0"})
    with pytest.raises(SettingsError, match="at most 6 hidden layers, got 7"):
        parse_settings({"hidden": [1] * 7})
    with pytest.raises(SettingsError, match="expected an object"):
        parse_settings(["lr"])


def test_a_whole_float_out_of_range_is_named_as_received(page):
    """samples=1e300 was refused naming the float's exact integer, 301 digits that the
    page never sent."""
    error = page.configure(samples=1e300)
    assert error["field"] == "samples", error
    assert error["message"] == "samples: expected an integer from 20 to 2000, got 1e+300"
    with pytest.raises(SettingsError, match=r"seed: .*, got 1e\+20$"):
        parse_settings({"seed": 1e20})
    assert parse_settings({"samples": 300.0}).samples == 300


@pytest.mark.parametrize("field", ["lr", "reg_rate", "dropout"])
def test_a_number_too_large_for_a_float_is_a_settings_error(page, field):
    """JSON may hold an integer of hundreds of digits: no float holds it, and the reply
    names the setting rather than an internal OverflowError."""
    huge = "1" + "0" * 400
    message = '{"type": "configure", "settings": {"' + field + '": ' + huge + "}}"
    error = page.ask(message)
    assert error["type"] == "error" and error["field"] == field, error
    assert "expected a number" in error["message"] and "Overflow" not in error["message"]
    assert page.step(1)["epoch"] == 1  # the run carries on


def test_keys_that_are_not_strings_are_unknown_settings():
    """A dict with an integer key beside a string one failed with "'<' not supported
    between instances of 'str' and 'int'"."""
    with pytest.raises(SettingsError, match=r"^1: unknown setting") as caught:
        parse_settings({1: 2, "lr": 0.1})
    assert caught.value.field == "1"


def test_numpy_integers_are_integers():
    """NumPy's integers were refused with "expected an integer, got np.int64(100)"."""
    raw = {"samples": np.int64(100), "hidden": [np.int32(3)], "seed": np.uint8(7)}
    settings = parse_settings(raw)
    assert (settings.samples, settings.hidden, settings.seed) == (100, (3,), 7)
    assert type(settings.samples) is int and type(settings.hidden[0]) is int
    session = Session(settings)
    session.step(np.int64(2))
    assert session.epoch == 2
    with pytest.raises(SettingsError, match=r"expected an integer, got np\.True_"):
        parse_settings({"samples": np.True_})


def test_a_session_given_a_dict_says_to_parse_it():
    """``Session({"samples": 100})`` failed with "'dict' object has no attribute
    'data_key'", and ``configure`` with a dict with an AttributeError."""
    with pytest.raises(TypeError, match=r"settings must be a Settings.*parse_settings.*dict"):
        Session({"samples": 100})
    session = Session()
    with pytest.raises(TypeError, match=r"settings must be a Settings"):
        session.configure({"samples": 100})
    assert session.settings == Settings()


def test_settings_survive_the_url_round_trip():
    settings = parse_settings(
        {
            "problem": "classification",
            "dataset": "moons",
            "hidden": [5, 1, 8],
            "features": ["sinx2", "x1"],
            "lr": 0.003,
            "seed": 42,
            "show_test": True,
        }
    )
    as_url = {
        k: ",".join(map(str, v)) if isinstance(v, list) else str(v).lower()
        for k, v in settings.as_dict().items()
    }
    assert parse_settings(as_url) == settings
    assert settings.features == ("x1", "sinx2")  # the canonical order


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("not json", "message"),
        ("[1, 2]", "message"),
        ('{"type": "fly"}', "type"),
        ('{"type": "step", "epochs": 0}', "epochs"),
        ('{"type": "step", "epochs": 101}', "epochs"),
        ('{"type": "step", "epochs": "many"}', "epochs"),
        ('{"type": "step", "epochs": true}', "epochs"),
        ('{"type": "configure", "settings": [1]}', "settings"),
    ],
)
def test_bad_messages_get_a_clear_error(page, message, field):
    error = page.ask(message)
    assert error["type"] == "error" and error["field"] == field, error
    assert page.step(1)["type"] == "frame"


@pytest.mark.parametrize(
    "message",
    [
        '{"type": "step", "epochs": ' + "9" * 5000 + "}",
        '{"type": "configure", "settings": {"seed": -' + "1" * 5000 + "}}",
    ],
)
def test_a_number_of_thousands_of_digits_is_named_as_such(page, message):
    """A JSON object holding an integer of more digits than Python converts was answered
    "expected a JSON object", as if it were not one."""
    error = page.ask(message)
    assert error["type"] == "error" and error["field"] == "message", error
    assert "too many digits" in error["message"], error
    assert page.step(1)["epoch"] == 1


def test_binary_messages_and_too_much_work_are_refused(page):
    page.ws.send_bytes(b"\x00\x01")
    error = page.receive()
    assert error["type"] == "error" and "text message" in error["message"]
    page.configure(samples=2000, ratio=90, batch=1)
    error = page.step(100)  # 180,000 updates in one request
    assert error["type"] == "error" and error["field"] == "epochs"
    assert "180000 updates" in error["message"]
    assert page.step(2)["epoch"] == 2


def test_a_run_trains_a_bounded_number_of_epochs(page, monkeypatch):
    """A page left playing trained on without end, and the run's history, one entry per
    epoch for each metric, grew with it: some 80 bytes an epoch, hundreds of megabytes a
    day for each open page."""
    assert LIMITS["max_epochs"] == 1_000_000
    monkeypatch.setitem(LIMITS, "max_epochs", 5)
    assert page.step(3)["epoch"] == 3
    error = page.step(3)
    assert error["type"] == "error" and error["field"] == "epochs"
    assert "at most 5 epochs" in error["message"] and "reset" in error["message"]
    assert page.step(2)["epoch"] == 5  # up to the limit, and the session carries on
    assert page.ask({"type": "reset"})["epoch"] == 0
    assert page.step(5)["epoch"] == 5


def test_oversized_messages_are_refused(page):
    huge = json.dumps({"type": "frame", "pad": "x" * MAX_MESSAGE_BYTES})
    error = page.ask(huge)
    assert error["type"] == "error" and "larger than" in error["message"]


def test_the_command_closes_a_connection_on_an_oversized_message():
    """The server docstring said every bad message gets an error and the session carries
    on; the command's web server ends the connection on one over the limit, as it now says."""
    import websockets.exceptions
    import websockets.sync.client

    huge = json.dumps({"type": "frame", "pad": "x" * MAX_MESSAGE_BYTES})
    with playground_command() as (_, port, _):
        url = f"ws://127.0.0.1:{port}/ws"
        with websockets.sync.client.connect(url, open_timeout=10, max_size=None) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
            ws.send(huge)
            with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1009


@pytest.mark.parametrize(
    "message",
    [
        "[" * 20_000 + "]" * 20_000,
        '{"type": "configure", "settings": ' + '{"a": ' * 8_000 + "1" + "}" * 8_001,
        '{"type": "step", "epochs": ' + "[" * 20_000 + "]" * 20_000 + "}",
    ],
)
def test_deeply_nested_messages_get_an_error_and_keep_the_connection(page, message):
    assert len(message.encode()) < MAX_MESSAGE_BYTES
    error = page.ask(message)
    assert error["type"] == "error" and error["field"] == "message", error
    assert "nested too deeply" in error["message"]
    assert page.step(1)["epoch"] == 1  # the same connection, the same run


def test_the_first_frame_carries_the_points_even_with_the_default_settings(client, page):
    # the session starts on the defaults, so configuring them changes nothing; the page
    # has no points yet, so its first frame must carry them all the same
    frame = page.configure()
    assert frame["settings"] == Settings().as_dict()
    session = client.app.state.registry.get(page.session)
    train = np.array(frame["data"]["train"])
    assert train.shape == (250, 3) and len(frame["data"]["test"]) == 250
    assert np.allclose(train[:, :2], session.points_train, atol=1e-3)
    assert np.array_equal(train[:, 2], session.y_train)
    assert list(frame["feature_maps"]) == list(data.FEATURES)
    assert "data" not in page.configure(show_test=True)  # a view change: no need to resend
    assert "data" not in page.step(1)


def test_the_first_frame_carries_the_points_after_a_view_only_change(page):
    frame = page.configure(show_test=True, discretize=True)
    assert frame["settings"]["show_test"] is True and len(frame["data"]["train"]) == 250


def test_the_number_of_sessions_is_bounded():
    with _client(create_app(max_sessions=1)) as client:
        with client.websocket_connect(WS) as first:
            Page(first)
            with client.websocket_connect(WS) as second:
                error = _strict_loads(second.receive_text())
                assert error["type"] == "error" and "too many" in error["message"]
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive_text()
                # the page shows the reason of the close, which it would otherwise replace
                # by the advice to restart the command
                assert closed.value.code == 1013
                assert closed.value.reason == "too many open pages (at most 1)"
        with client.websocket_connect(WS) as third:  # the first one's place is free again
            Page(third)


def test_websockets_from_other_sites_are_refused(client):
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(WS, headers={"Origin": "http://evil.example"}) as ws:
            ws.receive_text()


@pytest.mark.parametrize("origin", ["http://[::1", "http://[127.0.0.1:8765", "http://]:8765"])
def test_a_websocket_with_an_origin_that_is_no_url_is_refused(client, origin):
    """An ``Origin`` that Python cannot parse as a URL made the handler fail with
    "ValueError: Invalid IPv6 URL" (a traceback in the server's log and a 500 reply)."""
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(WS, headers={"Origin": origin}) as ws:
            ws.receive_text()
    assert client.app.state.registry.sessions == {}


ROUTES = ["/", "/static/app.js", "/static/style.css", "/api/config", "/api/export/x/code"]


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8765",  # DNS rebinding: another site's name resolving to 127.0.0.1
        "evil.example",
        "127.0.0.1:8766",  # the right name with another port
        "localhost:80",
        "127.0.0.1",
        "localhost.evil.example:8765",
        "127.0.0.1.nip.io:8765",
        "[::2]:8765",
        "localhost:8765:8765",
        "localhost:+8765",
        "",
    ],
)
def test_a_foreign_host_header_is_refused_on_every_route_and_the_websocket(client, host):
    for route in ROUTES:
        response = client.get(route, headers={"Host": host})
        assert response.status_code == 421, (route, response.status_code)
        assert repr(host) in response.json()["error"]
        assert "mlpzero" not in response.text  # nothing of the page leaks
    origin = f"http://{host}"
    with pytest.raises(WebSocketDisconnect):  # the handshake is refused before accept
        with client.websocket_connect(WS, headers={"Host": host, "Origin": origin}) as ws:
            ws.receive_text()
    assert client.app.state.registry.sessions == {}


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LocalHost:8765"]
)
def test_the_loopback_names_with_the_served_port_are_answered(client, host):
    for route in ROUTES[:4]:
        assert client.get(route, headers={"Host": host}).status_code == 200, route
    origin = f"http://{host}"
    with client.websocket_connect(WS, headers={"Host": host, "Origin": origin}) as ws:
        assert Page(ws).hello["type"] == "hello"


def test_the_host_the_server_was_started_on_is_answered_too():
    with _client(create_app(host="192.168.1.20")) as client:
        assert client.get("/", headers={"Host": "192.168.1.20:8765"}).status_code == 200
        assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
        assert client.get("/", headers={"Host": "192.168.1.21:8765"}).status_code == 421
    with _client(create_app(host="::1")) as client:  # an IPv6 address comes in brackets
        assert client.get("/", headers={"Host": "[::1]:8765"}).status_code == 200
    with _client(create_app(host="0.0.0.0")) as client:
        assert client.get("/", headers={"Host": "0.0.0.0:8765"}).status_code == 200
        assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 421


def test_a_port_80_server_answers_a_host_without_port():
    with TestClient(create_app(), base_url="http://localhost") as client:
        assert client.get("/", headers={"Host": "localhost"}).status_code == 200
        assert client.get("/", headers={"Host": "localhost:80"}).status_code == 200
        assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 421


def test_idle_sessions_expire_and_free_their_place():
    # Gaps of 0.4 s against a timeout of 1.5 s: a step slowed by a loaded machine still
    # leaves a second of margin.
    with _client(create_app(max_sessions=1, idle_timeout=1.5)) as client:
        with client.websocket_connect(WS) as first:
            page = Page(first)
            for _ in range(5):  # busy for longer than the timeout: kept open
                time.sleep(0.4)
                assert page.step(1)["type"] == "frame"
            with pytest.raises(WebSocketDisconnect) as closed:
                first.receive_text()  # nothing sent for 1.5 s: the server closes
            assert closed.value.code == 1000 and "idle" in closed.value.reason
        assert client.app.state.registry.sessions == {}
        with client.websocket_connect(WS) as second:  # the place is free again
            Page(second)


@contextlib.contextmanager
def served(app):
    """``app`` served by uvicorn as ``mlpzero playground`` serves it (same message size
    limit), on a free port of 127.0.0.1, in a thread: yields the port. Stopped at the end
    of the block, forcibly, within half a minute."""
    import uvicorn

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws_max_size=MAX_MESSAGE_BYTES)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield listening.getsockname()[1]
    finally:
        server.should_exit = server.force_exit = True
        thread.join(timeout=30)
        listening.close()


def _masked_text_frame(text: str) -> bytes:
    """``text`` as one WebSocket text frame from a client (masked, as clients must)."""
    payload, mask = text.encode(), os.urandom(4)
    length = (
        bytes([0x80 | len(payload)])
        if len(payload) < 126
        else bytes([0xFE]) + len(payload).to_bytes(2, "big")
    )
    return b"\x81" + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@contextlib.contextmanager
def stalled_page(port: int):
    """A WebSocket client of the server on ``port`` that asks for a hundred frames of
    2,000 points (some 100 kB each, far more than the socket buffers hold) and never
    reads a byte of them."""
    with socket.socket() as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(10)
        stalled.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        stalled.sendall(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert stalled.recv(12) == b"HTTP/1.1 101"
        settings = {"samples": 2000, "hidden": "8,8,8,8,8,8"}
        stalled.sendall(_masked_text_frame(json.dumps({"type": "configure", "settings": settings})))
        for _ in range(100):
            stalled.sendall(_masked_text_frame('{"type": "frame"}'))
        yield stalled


def test_a_page_that_stops_reading_is_closed_when_idle_and_frees_its_place():
    """A client that asks for frames and never reads them kept its place for good: the
    server waited without end to hand it a reply, so the idle timeout never came, and
    eight such connections shut every page out until the server was restarted."""
    import websockets.sync.client

    app = create_app(max_sessions=1, idle_timeout=1.0)
    with served(app) as port, stalled_page(port):
        # Nothing is read from here on; the place must come free once the server has
        # waited the idle timeout to send.
        deadline = time.monotonic() + 15
        while True:
            with websockets.sync.client.connect(
                f"ws://127.0.0.1:{port}/ws", open_timeout=10, max_size=None
            ) as other:
                first = json.loads(other.recv(timeout=10))
                if first["type"] == "hello":  # the stalled page's session is gone
                    assert list(app.state.registry.sessions) == [first["session"]]
                    break
            assert "too many" in first["message"], first
            assert time.monotonic() < deadline, "the stalled page still holds its place"
            time.sleep(0.2)


def test_the_idle_timeout_is_a_setting_and_is_checked():
    assert LIMITS["idle_timeout_seconds"] == 900
    for bad in (0, -1, float("nan"), "10", True):
        with pytest.raises(ValueError, match=r"idle_timeout must be a positive number of seconds"):
            create_app(idle_timeout=bad)


def test_the_config_and_the_hello_state_the_idle_timeout_in_force():
    """The limits the server sends said 900 s whatever idle_timeout the app was made with."""
    with _client(create_app(idle_timeout=42.5)) as client:
        assert client.get("/api/config").json()["limits"]["idle_timeout_seconds"] == 42.5
        with client.websocket_connect(WS) as ws:
            assert Page(ws).hello["limits"]["idle_timeout_seconds"] == 42.5
    assert LIMITS["idle_timeout_seconds"] == 900  # the default is left as it was


def test_the_number_of_sessions_is_checked():
    """A string failed only at the first connection, inside the server; 0 refused every
    page; 2.5 let three pages in and True one."""
    for bad in (0, -1, 2.5, "8", True, None):
        with pytest.raises(ValueError, match=r"max_sessions must be an integer >= 1, got"):
            create_app(max_sessions=bad)


def test_the_extra_host_name_is_checked():
    """A host that is not a string failed with "'int' object has no attribute 'strip'"."""
    for bad in (5, b"localhost", "", "  "):
        with pytest.raises(ValueError, match=r"host must name the server, such as"):
            create_app(host=bad)


# ---------------------------------------------------------------------- export
def test_exported_code_trains_the_very_same_model(client, page, tmp_path):
    page.configure(dataset="xor", hidden="5,3", lr=0.1, batch=16, seed=7, features="x1,x2,x1x2")
    for _ in range(4):
        frame = page.step(3)
    response = client.get(f"/api/export/{page.session}/code")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    script = tmp_path / "train.py"
    script.write_bytes(response.content)
    namespace = {"__name__": "exported"}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    model = namespace["model"]
    assert isinstance(model, MLP) and model.history.epochs == frame["epoch"] == 12
    # the server's frame was computed from the same weights, bit for bit
    weights = [np.round(w, 4).tolist() for w in model.network.weights]
    assert weights == frame["weights"]
    grid = data.features(data.grid(OUTPUT_GRID), ["x1", "x2", "x1x2"])
    p = model.predict_proba(grid)[:, 1]
    expected = np.rint((np.clip(2 * p - 1, -1, 1) + 1) * 127.5).astype(np.uint8)
    assert np.array_equal(_bytes(frame["output"]), expected)


EXTRAS = [
    ({"optimizer": "momentum"}, "SGD", {"momentum": 0.9}),
    ({"optimizer": "adam", "lr": 0.01}, "Adam", {}),
    ({"reg": "l2", "reg_rate": 0.01}, "SGD", {}),
    ({"reg": "l1", "reg_rate": 0.003}, "SGD", {}),
    ({"dropout": 0.2, "hidden": "8,8"}, "SGD", {}),
]


@pytest.mark.parametrize(("extra", "optimizer", "attributes"), EXTRAS)
def test_optimizers_penalties_and_dropout_reach_the_engine_and_replay(
    client, extra, optimizer, attributes
):
    settings = {"dataset": "circle", "activation": "relu", "seed": 2, **extra}
    with client.websocket_connect(WS) as ws:
        page = Page(ws)
        page.configure(**settings)
        for _ in range(3):
            frame = page.step(2)
        assert frame["settings"] == parse_settings(settings).as_dict()
        session = client.app.state.registry.get(page.session)
        used = session.model.optimizer_
        assert type(used).__name__ == optimizer
        assert all(getattr(used, k) == v for k, v in attributes.items())
        if "dropout" in extra:
            assert session.model.network.dropout == [0.2, 0.2]
        script = client.get(f"/api/export/{page.session}/code").text
        namespace = {"__name__": "exported"}
        exec(compile(script, "exported.py", "exec"), namespace)
        assert np.array_equal(namespace["model"].network.params, session.model.network.params)
    # the same run without the extra ends elsewhere: the option did something
    plain = Session(parse_settings({"dataset": "circle", "activation": "relu", "seed": 2}))
    for _ in range(3):
        plain.step(2)
    assert not np.array_equal(plain.model.network.params, session.model.network.params)


def test_exported_code_is_one_fit_call_a_user_can_run(tmp_path):

    session = Session(parse_settings({"dataset": "moons", "hidden": "6", "batch": 25}))
    for epochs in (1, 1, 5, 5):
        session.step(epochs)
    script = session.export_code()
    assert script.count("model.fit(") == 1 and "epochs=12," in script
    path = tmp_path / "train.py"
    path.write_text(script)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "train: {'loss'" in run.stdout and "test: {'loss'" in run.stdout


@pytest.mark.parametrize(
    "settings",
    [
        {"dataset": "circle", "hidden": "4,4", "activation": "relu", "lr": 0.1},
        {
            "problem": "regression",
            "dataset": "bump",
            "hidden": "6,3",
            "optimizer": "adam",
            "dropout": 0.1,
            "reg": "l2",
            "reg_rate": 0.001,
            "features": "x1sq,x2sq",
            "init": "glorot_uniform",
        },
    ],
)
def test_exported_model_file_loads_and_predicts_the_same(client, page, tmp_path, settings):
    import mlpzero

    page.configure(**settings)
    page.step(5)
    response = client.get(f"/api/export/{page.session}/model")
    assert response.status_code == 200
    name = response.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert name.endswith(".npz")
    path = tmp_path / name
    path.write_bytes(response.content)
    loaded = mlpzero.load(path)
    session = client.app.state.registry.get(page.session)
    assert np.array_equal(loaded.network.params, session.model.network.params)
    assert loaded.network.layer_sizes == session.model.network.layer_sizes
    X = data.features(data.grid(32), session.settings.features)
    if session.settings.problem == "classification":
        assert np.array_equal(loaded.predict_proba(X), session.model.predict_proba(X))
    else:
        assert np.array_equal(loaded.predict(X), session.model.predict(X))


def test_export_needs_a_trained_model_and_a_live_session(client, page):
    page.configure()
    response = client.get(f"/api/export/{page.session}/code")
    assert response.status_code == 409 and "at least one epoch" in response.json()["error"]
    assert client.get("/api/export/nosuchsession/code").status_code == 404
    page.step(1)
    assert client.get(f"/api/export/{page.session}/pickle").status_code == 404


# ---------------------------------------------------------------------- data
@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_every_dataset_is_reproducible_and_inside_the_view(name):
    X, y = data.make_dataset(name, 300, noise=0, seed=5)
    X2, y2 = data.make_dataset(name, 300, noise=0, seed=5)
    assert X.shape == (300, 2) and y.shape == (300,)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert (np.abs(X) <= data.DOMAIN).all(axis=1).mean() >= 0.99
    if name in data.CLASSIFICATION:
        assert set(np.unique(y)) == {0, 1} and 100 <= y.sum() <= 200
    else:
        assert np.abs(y).max() <= 1
    noisy_X, noisy_y = data.make_dataset(name, 300, noise=30, seed=5)
    assert not (np.array_equal(noisy_X, X) and np.array_equal(noisy_y, y))


@pytest.mark.parametrize("name", ["gauss", "plane", "circle"])
def test_make_dataset_checks_the_number_of_samples(name):
    """2.5 samples gave 2 and "10" gave 10; 0 gave an empty Gaussian or plane data set,
    and -3 failed inside NumPy with "negative dimensions are not allowed"."""
    for bad, error in (
        (2.5, TypeError),
        ("10", TypeError),
        (True, TypeError),
        (0, ValueError),
        (-3, ValueError),
    ):
        with pytest.raises(error, match=r"n_samples must be"):
            data.make_dataset(name, bad)
    assert data.make_dataset(name, np.int64(30))[0].shape == (30, 2)


def test_make_dataset_names_a_dataset_name_of_another_type():
    """A list of names failed with "unhashable type: 'list'", naming no argument."""
    for bad in (["circle"], {"circle": 1}, None):
        with pytest.raises(ValueError, match=r"dataset must be one of \[.*\], got "):
            data.make_dataset(bad, 10)


def test_make_dataset_takes_an_integer_seed_and_names_a_bad_one():
    """seed=None, or a Generator, gave other points for the same arguments, and -1 failed
    inside NumPy with "expected non-negative integer", naming no argument."""
    for bad, error in ((None, TypeError), (2.5, TypeError), ("3", TypeError), (-1, ValueError)):
        with pytest.raises(error, match=r"seed must be"):
            data.make_dataset("circle", 10, seed=bad)
    with pytest.raises(TypeError, match=r"seed must be"):
        data.make_dataset("circle", 10, seed=np.random.default_rng(0))
    X = data.make_dataset("circle", 10, seed=np.int64(3))[0]
    assert np.array_equal(X, data.make_dataset("circle", 10, seed=3)[0])


def test_make_dataset_takes_noise_as_a_number():
    """noise="5" failed with "'<=' not supported between instances of 'int' and 'str'",
    and True was taken as 1 %."""
    for bad in ("5", True, None, float("nan"), -1, 60):
        with pytest.raises(ValueError, match=r"noise must be a percentage in \[0, 50\]"):
            data.make_dataset("circle", 10, noise=bad)
    assert data.make_dataset("circle", 10, noise=np.float32(5))[0].shape == (10, 2)


def test_split_takes_a_percentage_and_refuses_anything_else():
    """-10 % for training kept 9 of 10 rows for training and 150 % all of them."""
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    for bad in (-10, 150, float("nan"), "50"):
        with pytest.raises(ValueError, match=r"train_percent must be a percentage in \[0, 100\]"):
            data.split(X, y, bad)
    _, y_train, _, y_test = data.split(X, y, 30)
    assert y_train.tolist() == [0, 1, 2] and y_test.tolist() == list(range(3, 10))
    assert len(data.split(X, y, 100)[3]) == 0 and len(data.split(X, y, 0)[1]) == 0


def test_split_refuses_X_and_y_of_different_lengths():
    """X of 10 rows and y of 9 split at 4 of y's rows: 4 and 6 rows of X beside 4 and 5
    targets, without a word."""
    X, y = np.arange(20.0).reshape(10, 2), np.arange(9)
    with pytest.raises(ValueError, match=r"X and y must have as many rows, got 10 and 9"):
        data.split(X, y, 50)


def test_features_need_points_of_two_coordinates():
    """A third column was ignored without a word, and a 1-D X failed with NumPy's "too
    many indices for array"."""
    for bad in (np.ones((5, 3)), np.ones(5), np.ones((5, 1))):
        with pytest.raises(ValueError, match=r"X must hold points .*, got shape \("):
            data.features(bad, ["x1"])
    assert data.features([[1.0, 2.0]], ["x2"]).tolist() == [[2.0]]


def test_grid_takes_a_whole_number_of_cells():
    """grid(2.5) gave 9 centres spaced for 2.5 cells, grid(-2) an empty grid and grid(0)
    a ZeroDivisionError."""
    for bad, error in ((2.5, TypeError), (0, ValueError), (-2, ValueError), ("3", TypeError)):
        with pytest.raises(error, match=r"size must be"):
            data.grid(bad)
    assert data.grid(np.int64(2)).tolist() == [[-3.0, 3.0], [3.0, 3.0], [-3.0, -3.0], [3.0, -3.0]]


def test_datasets_follow_their_definitions_without_noise():
    X, y = data.make_dataset("xor", 400, seed=1)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    X, y = data.make_dataset("circle", 400, seed=1)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 1], 2.5) and np.allclose(r[y == 0], 5.0)
    X, y = data.make_dataset("plane", 400, seed=1)
    assert np.allclose(y, (X[:, 0] + X[:, 1]) / 10)
    X, y = data.make_dataset("bump", 400, seed=1)
    assert np.allclose(y, 2 * np.exp(-(X**2).sum(axis=1) / 8) - 1)
    X, y = data.make_dataset("linear", 400, seed=1)
    assert np.array_equal(y, (X[:, 0] + X[:, 1] > 0).astype(int))
    X, y = data.make_dataset("spiral", 400, seed=1)
    assert np.hypot(X[:, 0], X[:, 1]).max() == pytest.approx(5.0)


def test_features_follow_their_formulas():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]])
    out = data.features(X, ["sinx2", "x1x2", "x2sq", "x1sq", "x2", "x1", "sinx1"])
    x1, x2 = X[:, 0], X[:, 1]
    expected = np.column_stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)])
    assert np.array_equal(out, expected)
    with pytest.raises(ValueError, match="features"):
        data.features(X, ["x3"])


# ---------------------------------------------------------------------- the command
@contextlib.contextmanager
def playground_command(*options: str):
    """``mlpzero playground --port 0`` (and ``options``) serving: yields the process, the
    port it printed and the address (checked to serve the page). Killed after a minute
    whatever happens, and ended at the end of the block if it still runs."""
    command = [sys.executable, "-m", "mlpzero", "playground", "--no-browser", "--port", "0"]
    command += options
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    # A server that never prints would leave readline waiting: end it after a minute.
    watchdog = threading.Timer(60, os.killpg, args=(process.pid, signal.SIGKILL))
    watchdog.start()
    try:
        line = process.stdout.readline()
        match = re.search(r"http://(localhost|[^\s/]+):(\d+)/", line)
        assert match is not None and match[2] != "0", line  # port 0: any free one, named
        # Once it answers, the server serves, with its own Ctrl+C handling in place.
        with urllib.request.urlopen(match[0], timeout=10) as response:
            assert "mlpzero playground" in response.read().decode()
        yield process, int(match[2]), match[0]
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.terminate()
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:  # deaf to SIGTERM: end it and what it started
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()


def test_the_command_serves_the_page_on_loopback():
    with playground_command() as (_, port, _):

        def raw(target: str, host: str, extra: str = "Connection: close\r\n") -> bytes:
            """A raw request, past any client-side URL clean-up."""
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
                reply = b""
                while chunk := connection.recv(65536):
                    reply += chunk
                    if b"\r\n\r\n" in reply and not reply.startswith(b"HTTP/1.1 4"):
                        break  # a WebSocket stays open: the status line is enough
            return reply

        for target in ["/static/../server.py", "/../../pyproject.toml", "/static/./app.js/.."]:
            reply = raw(target, f"127.0.0.1:{port}")
            assert reply.startswith(b"HTTP/1.1 404"), (target, reply[:200])
            assert b"import" not in reply
        # DNS rebinding: the right address under another name is refused, WebSocket included
        evil = f"evil.example:{port}"
        assert raw("/", f"localhost:{port}").startswith(b"HTTP/1.1 200")
        for target in ["/", "/api/config", "/static/app.js"]:
            assert raw(target, evil).startswith(b"HTTP/1.1 421"), target
        upgrade = (
            f"Origin: http://{evil}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        )
        reply = raw("/ws", evil, upgrade)
        assert reply.startswith(b"HTTP/1.1 421"), reply[:200]
        assert b"session" not in reply
        good = upgrade.replace(evil, f"localhost:{port}")
        assert raw("/ws", f"localhost:{port}", good).startswith(b"HTTP/1.1 101")


def _has_ipv6_loopback() -> bool:
    """Whether this machine has the IPv6 loopback address ``::1`` to listen on."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6_loopback = pytest.mark.skipif(
    not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback address (::1)"
)


def _status_line(address: str, port: int, host: str) -> bytes:
    """The first line of the reply to ``GET /`` sent to ``address``, naming ``host``."""
    with socket.create_connection((address, port), timeout=5) as connection:
        request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        connection.sendall(request.encode())
        with connection.makefile("rb") as reply:
            return reply.readline()


@needs_ipv6_loopback
def test_localhost_is_served_on_both_loopback_addresses():
    """A browser may resolve localhost to 127.0.0.1 or to ::1: --host localhost listens on
    both, on the one port it prints."""
    with playground_command("--host", "localhost") as (_, port, _):
        for address in ("127.0.0.1", "::1"):
            line = _status_line(address, port, f"localhost:{port}")
            assert line.startswith(b"HTTP/1.1 200"), (address, line)


@needs_ipv6_loopback
def test_the_address_printed_for_ipv6_loopback_leads_to_the_server():
    """Served on ::1 alone, the server is not at localhost wherever that name means
    127.0.0.1 only: the address printed (and opened in the browser) is ``[::1]``."""
    with playground_command("--host", "::1") as (_, port, url):
        assert url == f"http://[::1]:{port}/"


@needs_ipv6_loopback
def test_an_ipv6_address_in_brackets_is_served_as_without_them():
    """``[::1]`` is how the address is written in a URL, and how the command prints it;
    given to --host, it failed to listen."""
    with playground_command("--host", "[::1]") as (_, port, url):
        assert url == f"http://[::1]:{port}/"
        assert _status_line("::1", port, f"[::1]:{port}").startswith(b"HTTP/1.1 200")


@needs_ipv6_loopback
def test_localhost_on_a_port_taken_on_one_loopback_address_is_refused():
    with socket.socket(socket.AF_INET6) as taken:
        taken.bind(("::1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "mlpzero", "playground", "--no-browser"]
        run = subprocess.run(
            [*command, "--host", "localhost", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode != 0 and "http://" not in run.stdout, run.stdout
    assert f"[::1]:{port}" in run.stderr, run.stderr


def test_the_command_prints_the_port_it_listens_on_and_no_port_it_could_not_get():
    with playground_command() as (_, port, _):
        # a port already taken: an error, and no address that leads to another server
        command = [sys.executable, "-m", "mlpzero", "playground", "--no-browser"]
        taken = subprocess.run(
            [*command, "--port", str(port)], capture_output=True, text=True, timeout=60
        )  # fmt: skip
        assert taken.returncode != 0 and "http://" not in taken.stdout, taken.stdout
    with socket.socket() as probe:  # nothing listens on the port any more
        # (connections closed a moment ago may still wait on it, which this allows)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


def test_an_address_it_cannot_listen_on_ends_the_command_as_any_error():
    """Exit status 1 and the command's one line naming the address, as every command
    fails: not the web server's own log line and exit status 3."""
    command = [sys.executable, "-m", "mlpzero", "playground", "--no-browser"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases = [  # a port another program holds; an address this machine does not have
            (["--port", str(port)], f"127.0.0.1:{port}"),
            (["--host", "203.0.113.7", "--port", "0"], "203.0.113.7"),
        ]
        for options, address in cases:
            run = subprocess.run(
                [*command, *options], capture_output=True, text=True, timeout=60
            )  # fmt: skip
            assert run.returncode == 1 and "http://" not in run.stdout, (options, run)
            lines = run.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("mlpzero playground: error: "), lines
            assert f"cannot listen on {address}" in lines[0], lines


def test_ctrl_c_stops_the_command_as_a_normal_end():
    """Ctrl+C is how the page's server is meant to stop (the command says so): exit
    status 0 and no "interrupted" message, as before the command bound its own socket."""
    with playground_command() as (process, _, _):
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, (process.returncode, err)
    assert "interrupted" not in err and "Traceback" not in err, err


def test_ctrl_c_stops_the_command_while_a_page_has_stopped_reading():
    """Ctrl+C waited for every connection to close, without end and without a word, so
    a client that had stopped reading its replies kept the command running."""
    with playground_command() as (process, port, _), stalled_page(port):
        time.sleep(1)  # the replies fill the socket buffers
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, (process.returncode, err)
    assert "Traceback" not in err, err


def test_the_command_refuses_a_bad_port():
    from mlpzero.playground.server import main

    with pytest.raises(ValueError, match="port must be an integer from 0 to 65535, got 70000"):
        main(port=70000, open_browser=False)


@pytest.mark.parametrize("host", ["", "  ", "[]", "[ ]"])
def test_the_command_refuses_an_empty_host(monkeypatch, host):
    """An empty address binds every network interface: ``--host "$UNSET"`` must not
    put the playground on the network."""
    from mlpzero.playground import server

    def bind(*args):
        raise AssertionError("the server went on to listen")

    monkeypatch.setattr(server, "_bind", bind)
    with pytest.raises(
        ValueError, match=rf"host must name an address.*got {re.escape(repr(host))}"
    ):
        server.main(host=host, port=0, open_browser=False)


def test_localhost_in_capitals_is_still_localhost(monkeypatch, capsys):
    """Host names are case-insensitive: ``--host LOCALHOST`` is served on both loopback
    addresses like ``localhost``, without a warning that it reaches other machines."""
    import uvicorn

    from mlpzero.playground import server

    asked = []

    def bind(config, both):
        asked.append((config.host, both))
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        return [listening]

    monkeypatch.setattr(server, "_bind", bind)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: None)  # serve nothing
    server.main(host="LocalHost", port=0, open_browser=False)
    assert asked == [("127.0.0.1", True)]
    out, err = capsys.readouterr()
    assert "http://localhost:" in out and "warning" not in err, (out, err)


def test_a_command_stopped_at_once_opens_no_browser(monkeypatch):
    """Ctrl+C in the first second (or a server that failed to start) still opened the
    browser a second after the command had ended, on a page that no longer existed."""
    import uvicorn

    from mlpzero.playground import server

    def bind(config, both):
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        return [listening]

    def interrupted(self, sockets):
        raise KeyboardInterrupt

    opened = []
    monkeypatch.setattr(server, "_bind", bind)
    monkeypatch.setattr(uvicorn.Server, "run", interrupted)
    monkeypatch.setattr(server.webbrowser, "open", opened.append)
    server.main(port=0, open_browser=True)
    time.sleep(1.5)  # beyond the second the command waits before opening the page
    assert opened == []


@pytest.mark.parametrize(
    ("host", "warned"),
    [("127.0.0.2", False), ("0:0:0:0:0:0:0:1", False), ("0.0.0.0", True), ("192.168.1.5", True)],
)
def test_only_an_address_beyond_loopback_is_warned_about(monkeypatch, capsys, host, warned):
    """Every 127.x.x.x address (and ::1 written out) is this machine's loopback: the
    command warned that such a server was reachable beyond this machine."""
    import uvicorn

    from mlpzero.playground import server

    def bind(config, both):
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        return [listening]

    monkeypatch.setattr(server, "_bind", bind)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: None)  # serve nothing
    server.main(host=host, port=0, open_browser=False)
    _, err = capsys.readouterr()
    assert ("reachable beyond this machine" in err) == warned, err


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_bad_port_is_a_bad_option(capsys, port):
    """Exit status 2 and argparse's line naming the option, as for every bad option."""
    from mlpzero.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["playground", "--no-browser", "--port", port])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "argument --port" in err and repr(port) in err, err


def test_the_command_has_help(capsys):
    from mlpzero.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["playground", "--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    assert "--no-browser" in usage and "127.0.0.1" in usage


def test_random_valid_settings_all_train_without_a_server_error(page):
    """Forty random configurations from the whole space, each configured and stepped."""
    from mlpzero.playground.settings import ACTIVATIONS, INITIALIZERS, OPTIMIZERS

    rng = np.random.default_rng(0)
    for _ in range(40):
        problem = str(rng.choice(["classification", "regression"]))
        names = data.CLASSIFICATION if problem == "classification" else data.REGRESSION
        chosen = [f for f in data.FEATURES if rng.random() < 0.5] or ["x1"]
        settings = {
            "problem": problem,
            "dataset": str(rng.choice(list(names))),
            "noise": int(rng.integers(0, 51)),
            "ratio": int(rng.choice([10, 50, 90])),
            "samples": int(rng.integers(20, 400)),
            "batch": int(rng.integers(1, 60)),
            "features": ",".join(chosen),
            "hidden": ",".join(str(n) for n in rng.integers(1, 9, rng.integers(0, 7))),
            "lr": float(rng.choice([0.001, 0.03, 0.3, 3])),
            "activation": str(rng.choice(ACTIVATIONS)),
            "reg": str(rng.choice(["none", "l1", "l2"])),
            "reg_rate": float(rng.choice([0, 0.001, 0.1])),
            "optimizer": str(rng.choice(OPTIMIZERS)),
            "dropout": float(rng.choice([0, 0.2, 0.5])),
            "init": str(rng.choice(INITIALIZERS)),
            "seed": int(rng.integers(0, 1000)),
        }
        frame = page.configure(**settings)
        assert frame["type"] == "frame", (settings, frame)
        frame = page.step(2)
        # a frame, or a clear refusal after divergence; never an internal error
        assert frame["type"] == "frame" or "diverged" in frame["message"], (settings, frame)
