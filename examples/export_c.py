"""Export an mlpzero model as a C99 header and compile it into a ten-line program.

Run: ``python examples/export_c.py [OUT_DIR]``. The script writes ``OUT_DIR/moons.h`` and
``OUT_DIR/main.c``; with a C compiler (``cc``) on the PATH it builds the program, runs it
and checks its answer against the model's, and otherwise prints the command to use.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from mlpzero import MLP
from mlpzero.datasets import make_moons

MAIN_C = """#include <stdio.h>
#include "moons.h"

int main(void)
{
    const float x[MOONS_N_FEATURES] = {0.5f, -0.25f};
    float proba[MOONS_N_CLASSES];
    moons_predict_proba(x, proba);
    printf("%s %.6f\\n", moons_classes[moons_predict(x)], proba[1]);
    return 0;
}
"""


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = make_moons(400, noise=0.2, random_state=0)
    labels = np.array(["left", "right"])[y]
    model = MLP(hidden=(16, 8), seed=0).fit(X, labels, epochs=300, learning_rate=0.1)
    header = model.to_c(out / "moons.h", name="moons")
    (out / "main.c").write_text(MAIN_C, encoding="utf-8")
    print(f"wrote {header} and {out / 'main.c'}")

    command = ["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-O2", "main.c", "-o", "moons",
               "-lm"]  # fmt: skip
    if shutil.which("cc") is None:
        print("no C compiler found; build it with:", " ".join(command))
        return
    subprocess.run(command, cwd=out, check=True)
    answer = subprocess.run([str(out / "moons")], capture_output=True, text=True, check=True)
    label, p_right = answer.stdout.split()
    x = np.array([[0.5, -0.25]])
    expected_label, expected_p = model.predict(x)[0], model.predict_proba(x)[0, 1]
    assert label == expected_label and abs(float(p_right) - expected_p) < 1e-5, answer.stdout
    print(f"the C program says {label} with p(right) = {p_right}; so does the model")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out"))
