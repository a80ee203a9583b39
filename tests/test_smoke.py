import numpy as np

from mlpzero import MLP


def test_xor_is_learned():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2)) * 2
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = MLP(hidden=(8, 4), seed=0).fit(X, y, epochs=3000, learning_rate=0.1)
    assert model.evaluate(X, y)["accuracy"] >= 0.97
