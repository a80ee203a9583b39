"""Export a fitted model as one self-contained C99 header, for microcontrollers.

The header holds the weights as ``static const`` arrays (``float`` for a float32 model,
``double`` for float64) and ``static inline`` functions over them; it includes only
``<math.h>``, allocates nothing, keeps no state that changes, and works in arrays on the
stack whose sizes are fixed at compile time: two (one with a single hidden layer) as wide
as the widest hidden layer, one as wide as the input for a model that standardises its
inputs, and, where ``NAME_predict`` decides from probabilities it does not return, one as
wide as the output. With ``NAME`` the chosen prefix and ``real`` the model's type:

==========================  ==========================================================
task                        functions
==========================  ==========================================================
binary, multiclass          ``void NAME_predict_proba(const real *x, real *proba)``
                            (``NAME_N_CLASSES`` columns, as ``predict_proba``) and
                            ``int NAME_predict(const real *x)`` (the class index)
multilabel                  ``NAME_predict_proba`` (one probability per label) and
                            ``void NAME_predict(const real *x, int *labels)`` (0/1)
regression                  ``void NAME_predict(const real *x, real *y)``
                            (``NAME_N_OUTPUTS`` values)
==========================  ==========================================================

Classifiers also get ``NAME_classes``, the labels by index: ``static const char *const``
for string labels, ``static const long long`` for integers. A model that knows its
feature names gets them as ``NAME_feature_names`` (``static const char *const``, in input
order). Every activation and the output link are written from
:data:`~mlpzero.export.operations.OPERATIONS`.

The macros are spelled with ``NAME`` in capitals (``NAME_N_FEATURES``), so two headers of
one program need names that differ beyond case: ``net`` and ``NET`` define the same macros,
and the second header's values replace the first's (a compiler warning when they differ).
Two models exported under one name do not compile together: each defines the same
functions. The include guard ends in a digest of the header, so that one header included
twice is read once but a second model of the same name is never skipped in silence.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .._version import installed_version
from ..io import replace_atomically
from ..losses import exp_limit
from .description import Description, checked_output, describe
from .operations import OPERATIONS, Step

__all__ = ["c_source", "is_identifier", "is_keyword", "to_c"]

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while".split()
)
#: The longest string literal, in bytes, that C99 promises to translate (-pedantic warns
#: beyond it).
_LONGEST_STRING = 4095
#: How many numbers of an array are formatted at a time: the header is written as it is
#: formatted, never held whole.
_BLOCK = 1024
_MATH = {np.dtype(np.float32): ("float", "f", "expf", "tanhf"),
         np.dtype(np.float64): ("double", "", "exp", "tanh")}  # fmt: skip


def is_keyword(name: str) -> bool:
    """Whether ``name`` is one of C99's keywords (``int``, ``static``, ...)."""
    return name in _C_KEYWORDS


def is_identifier(name: str) -> bool:
    """Whether ``name`` can prefix the header's identifiers: a C identifier that starts
    with a letter (those that start with ``_`` are reserved for the compiler and the C
    library) and is not a keyword."""
    return bool(_IDENTIFIER.match(name)) and name not in _C_KEYWORDS


def to_c(model: Any, path: str | os.PathLike[str], *, name: str = "model") -> Path:
    """Write a fitted :class:`~mlpzero.MLP` as a C99 header to ``path`` (a ``.h`` file);
    returns the path.

    ``name`` prefixes every identifier of the header (``NAME_predict``, ...) and must be a
    C identifier that starts with a letter. See :mod:`mlpzero.export.c` for the functions
    it defines. The text is :func:`c_source`'s, written as it is formatted (a block of
    numbers at a time, so memory stays far below the header's size) to a file that
    replaces ``path`` once complete (:func:`mlpzero.io.replace_atomically`). The body
    goes first to a scratch file in ``path``'s folder, because the include guard above it
    ends in the body's digest.

    Raises
    ------
    ValueError
        ``name`` is not a C identifier starting with a letter, ``path`` does not end in
        ``.h`` (or holds a model file), or the model cannot be exported (not fitted, a
        custom activation or loss).
    """
    writer = _writer(describe(model), name)
    path = checked_output(path, ".h")

    def write(handle: BinaryIO) -> None:
        digest = hashlib.sha256()
        with tempfile.TemporaryFile(dir=path.parent) as body:
            for piece in writer.body():
                data = piece.encode("utf-8")
                digest.update(data)
                body.write(data)
            head, tail = writer.frame(digest.hexdigest())
            handle.write(head.encode("utf-8"))
            body.seek(0)
            shutil.copyfileobj(body, handle)
            handle.write(tail.encode("utf-8"))

    return replace_atomically(path, write)


def c_source(description: Description, name: str = "model") -> str:
    """The text of the C99 header for ``description``, its identifiers prefixed ``name``."""
    writer = _writer(description, name)
    body = "".join(writer.body())
    head, tail = writer.frame(hashlib.sha256(body.encode("utf-8")).hexdigest())
    return head + body + tail


def _writer(description: Description, name: str) -> _Writer:
    """The header's writer, once ``name`` is checked."""
    if isinstance(name, str) and name.startswith("_"):
        raise ValueError(
            f"name must not start with '_': C reserves such identifiers for the compiler and "
            f"its library, and {name!r} would give names like {name}_predict; got {name!r}"
        )
    if not isinstance(name, str) or not is_identifier(name):
        raise ValueError(
            f"name must be a C identifier (letters, digits and _, starting with a letter, "
            f"not a C keyword), got {name!r}"
        )
    return _Writer(description, name)


class _Writer:
    def __init__(self, description: Description, name: str) -> None:
        self.d = description
        self.name = name
        self.real, self.suffix, self.exp, self.tanh = _MATH[description.dtype]
        #: One C function per distinct step (a leaky ReLU per alpha), by its name. The
        #: step's name loses its underscores: NAME_leaky_relu would be the ReLU of a
        #: second header named NAME_leaky, and the two could not be compiled together.
        self.functions: dict[tuple[str, tuple[tuple[str, float], ...]], str] = {}
        for step in [*description.activations, description.link]:
            key = _key(step)
            if step.operation.c and key not in self.functions:
                used = sum(k[0] == step.name for k in self.functions)
                function = f"{name}_{step.name.replace('_', '')}"
                self.functions[key] = function + (f"_{used + 1}" if used else "")

    def literal(self, value: Any) -> str:
        """``value`` in the model's dtype, written so that C reads back the same number."""
        text = np.format_float_scientific(self.d.dtype.type(value), unique=True, trim="-")
        return text + self.suffix

    def array(self, what: str, values: np.ndarray, size: str) -> Iterator[str]:
        """The array's definition, in pieces of a block of values each."""
        yield f"static const {self.real} {self.name}_{what}[{size}] = {{\n"
        flat = np.ravel(values)
        line = "   "
        for start in range(0, flat.size, _BLOCK):
            lines = []
            for value in flat[start : start + _BLOCK]:
                number = self.literal(value)
                if len(line) + len(number) + 2 > 96:
                    lines.append(line.rstrip() + "\n")
                    line = "   "
                line += f" {number},"
            yield "".join(lines)
        yield line.rstrip() + "\n};"

    def body(self) -> Iterator[str]:
        """The header between its include guard's lines, in pieces of bounded size."""
        d = self.d
        upper = self.name.upper()
        hidden = d.layer_sizes[1:-1]
        parts: list[str | Iterator[str]] = ["#include <math.h>", self.defines()]
        if d.feature_names is not None:
            parts.append(self.feature_names())
        if d.labels is not None:
            parts.append(self.classes())
        if d.mean is not None:
            parts.append(self.array("mean", d.mean, f"{upper}_N_FEATURES"))
            parts.append(self.array("scale", d.scale, f"{upper}_N_FEATURES"))
        for layer, (w, b) in enumerate(zip(d.weights, d.biases, strict=True), start=1):
            parts.append(self.array(f"w{layer}", w, f"{w.size} /* {w.shape[0]} x {w.shape[1]} */"))
            parts.append(self.array(f"b{layer}", b, str(b.shape[0])))
        parts.append(self.dense())
        for step, function in self.functions.items():
            parts.append(self.step_function(step, function))
        parts.append(self.logits(hidden))
        parts += self.entry_points()
        for index, part in enumerate(parts):
            if index:
                yield "\n\n"
            yield from [part] if isinstance(part, str) else part

    def frame(self, digest: str) -> tuple[str, str]:
        """The header's text before and after its body, whose SHA-256 ``digest`` (hex)
        the include guard ends in."""
        # The guard keeps the name's case (headers named net and NET are two headers) and
        # ends in a digest of the body: one header included twice is read once, but two
        # models exported under one name collide at compile time, rather than the second
        # being skipped in silence and its calls computing the first model.
        guard = f"{self.name}_MLPZERO_{digest[:16].upper()}_H"
        head = f"{self.comment()}\n\n#ifndef {guard}\n#define {guard}\n\n"
        return head, f"\n\n#endif /* {guard} */\n"

    def comment(self) -> str:
        d, n = self.d, self.name
        version = installed_version()
        weight_bytes = d.n_params * d.dtype.itemsize
        if d.mean is not None:
            weight_bytes += 2 * d.n_features * d.dtype.itemsize
        lines = [
            f"{n}: an mlpzero {d.task} MLP as a self-contained C99 header (mlpzero {version}).",
            "",
            f"Architecture: {d.architecture()}.",
            f"Weights: {d.n_params} parameters in {self.real}, {weight_bytes} bytes.",
            "Needs only <math.h> (link with -lm); allocates nothing; no state that changes.",
            "",
        ]
        if d.task in ("binary", "multiclass"):
            lines += [
                f"void {n}_predict_proba(const {self.real} *x, {self.real} *proba);",
                f"    x: {n.upper()}_N_FEATURES inputs; proba: {n.upper()}_N_CLASSES columns.",
                f"int {n}_predict(const {self.real} *x);",
                f"    The index of the predicted class in {n}_classes.",
            ]
        elif d.task == "multilabel":
            lines += [
                f"void {n}_predict_proba(const {self.real} *x, {self.real} *proba);",
                f"void {n}_predict(const {self.real} *x, int *labels);",
                f"    {n.upper()}_N_OUTPUTS probabilities, or 0/1 labels (probability > 0.5).",
            ]
        else:
            lines += [
                f"void {n}_predict(const {self.real} *x, {self.real} *y);",
                f"    x: {n.upper()}_N_FEATURES inputs; y: {n.upper()}_N_OUTPUTS values.",
            ]
        if d.feature_names is not None:
            lines += ["", f"The inputs' names, in order: {n}_feature_names."]
        body = "\n".join(f" * {line}".rstrip() for line in lines)
        return f"/*\n{body}\n */"

    def defines(self) -> str:
        d, upper = self.d, self.name.upper()
        hidden = d.layer_sizes[1:-1]
        lines = [
            f"#define {upper}_N_FEATURES {d.n_features}",
            f"#define {upper}_N_OUTPUTS {d.n_columns}",
        ]
        if d.labels is not None and d.task != "multilabel":
            lines.append(f"#define {upper}_N_CLASSES {len(d.labels)}")
        if hidden:
            lines.append("/* The widest hidden layer: the size of the hidden layers' buffers. */")
            lines.append(f"#define {upper}_WIDEST {max(hidden)}")
        return "\n".join(lines)

    def feature_names(self) -> str:
        # Escaped C strings, never raw text in a comment: a name cannot end the comment,
        # splice lines or form a trigraph.
        parts, items = [], []
        for j, name in enumerate(self.d.feature_names):
            literal = _c_string(name, "feature name")  # refuses a NUL
            if len(name.encode("utf-8")) <= _LONGEST_STRING:
                items.append(literal)
            else:  # longer than C99 promises a string literal can be: an array of bytes
                array = f"{self.name}_feature_name_{j}"
                parts.append(_initialized(f"static const char {array}[]", _c_chars(name)))
                items.append(array)
        declaration = f"static const char *const {self.name}_feature_names[]"
        return "\n\n".join([*parts, _initialized(declaration, items)])

    def classes(self) -> str:
        labels = self.d.labels
        if labels.dtype == object:
            items = [_c_string(str(label), "class label") for label in labels.tolist()]
            declaration = f"static const char *const {self.name}_classes[]"
        else:
            items = [_c_long_long(int(label)) for label in labels.tolist()]
            declaration = f"static const long long {self.name}_classes[]"
        return _initialized(declaration, items)

    def dense(self) -> str:
        r, n = self.real, self.name
        return (
            f"/* out = W in + b, with W of shape (n_out, n_in), row-major. w steps a row at a\n"
            f"   time: an index j * n_in + i would overflow where int has 16 bits. */\n"
            f"static inline void {n}_dense(const {r} *w, const {r} *b, const {r} *in, int n_in,\n"
            f"                             {r} *out, int n_out)\n"
            "{\n"
            "    int i, j;\n"
            "    for (j = 0; j < n_out; ++j, w += n_in) {\n"
            f"        {r} sum = b[j];\n"
            "        for (i = 0; i < n_in; ++i) {\n"
            "            sum += w[i] * in[i];\n"
            "        }\n"
            "        out[j] = sum;\n"
            "    }\n"
            "}"
        )

    def step_function(self, key: tuple[str, tuple[tuple[str, float], ...]], function: str) -> str:
        name, parameters = key
        fill = {"exp": self.exp, "tanh": self.tanh, "real": self.real}
        fill["exp_limit"] = self.literal(exp_limit(self.d.dtype))
        fill.update({key: self.literal(value) for key, value in parameters})
        body = OPERATIONS[name].c.format(**fill)
        return (
            f"static inline void {function}({self.real} *v, int n)\n{{\n    int i;\n    {body}\n}}"
        )

    def call(self, step: Step, buffer: str, size: int) -> list[str]:
        if not step.operation.c:
            return []
        return [f"    {self.functions[_key(step)]}({buffer}, {size});"]

    def logits(self, hidden: list[int]) -> str:
        d, n, r = self.d, self.name, self.real
        upper = n.upper()
        lines = [
            f"/* The outputs of the last layer, after the output link ({d.link.name}). */",
            f"static inline void {n}_outputs(const {r} *x, {r} *out)",
            "{",
        ]
        buffers = ["h0", "h1"][: min(2, len(hidden))]
        for buffer in buffers:
            lines.append(f"    {r} {buffer}[{upper}_WIDEST];")
        source = "x"
        if d.mean is not None:
            lines += [
                f"    {r} x0[{upper}_N_FEATURES];",
                "    int i;",
                f"    for (i = 0; i < {upper}_N_FEATURES; ++i) {{",
                f"        x0[i] = (x[i] - {n}_mean[i]) / {n}_scale[i];",
                "    }",
            ]
            source = "x0"
        sizes = d.layer_sizes
        for layer in range(len(d.weights)):
            last = layer == len(d.weights) - 1
            target = "out" if last else buffers[layer % 2]
            lines.append(
                f"    {n}_dense({n}_w{layer + 1}, {n}_b{layer + 1}, {source}, {sizes[layer]}, "
                f"{target}, {sizes[layer + 1]});"
            )
            step = d.link if last else d.activations[layer]
            lines += self.call(step, target, sizes[layer + 1])
            source = target
        lines.append("}")
        return "\n".join(lines)

    def entry_points(self) -> list[str]:
        d, n, r = self.d, self.name, self.real
        upper = n.upper()
        if d.task == "regression":
            return [
                f"static inline void {n}_predict(const {r} *x, {r} *y)\n"
                f"{{\n    {n}_outputs(x, y);\n}}"
            ]
        if d.task == "multilabel":
            return [
                f"static inline void {n}_predict_proba(const {r} *x, {r} *proba)\n"
                f"{{\n    {n}_outputs(x, proba);\n}}",
                f"static inline void {n}_predict(const {r} *x, int *labels)\n"
                "{\n"
                f"    {r} proba[{upper}_N_OUTPUTS];\n"
                "    int k;\n"
                f"    {n}_outputs(x, proba);\n"
                f"    for (k = 0; k < {upper}_N_OUTPUTS; ++k) {{\n"
                f"        labels[k] = proba[k] > {self.literal(0.5)};\n"
                "    }\n"
                "}",
            ]
        if d.task == "binary" and len(d.labels) == 1:
            proba = (
                f"/* Training saw one class: it is certain, whatever x. */\n"
                f"static inline void {n}_predict_proba(const {r} *x, {r} *proba)\n"
                "{\n    (void)x;\n    proba[0] = 1;\n}"
            )
            predict = (
                f"static inline int {n}_predict(const {r} *x)\n{{\n    (void)x;\n    return 0;\n}}"
            )
            return [proba, predict]
        if d.task == "binary":
            proba = (
                f"static inline void {n}_predict_proba(const {r} *x, {r} *proba)\n"
                "{\n"
                f"    {r} p[1];\n"
                f"    {n}_outputs(x, p);\n"
                "    proba[0] = 1 - p[0];\n"
                "    proba[1] = p[0];\n"
                "}"
            )
            predict = (
                f"static inline int {n}_predict(const {r} *x)\n"
                "{\n"
                f"    {r} p[1];\n"
                f"    {n}_outputs(x, p);\n"
                f"    return p[0] > {self.literal(0.5)};\n"
                "}"
            )
            return [proba, predict]
        proba = (
            f"static inline void {n}_predict_proba(const {r} *x, {r} *proba)\n"
            f"{{\n    {n}_outputs(x, proba);\n}}"
        )
        predict = (
            f"/* The first class of largest probability, as argmax gives it. */\n"
            f"static inline int {n}_predict(const {r} *x)\n"
            "{\n"
            f"    {r} proba[{upper}_N_CLASSES];\n"
            "    int k, best = 0;\n"
            f"    {n}_outputs(x, proba);\n"
            f"    for (k = 1; k < {upper}_N_CLASSES; ++k) {{\n"
            "        if (proba[k] > proba[best]) {\n"
            "            best = k;\n"
            "        }\n"
            "    }\n"
            "    return best;\n"
            "}"
        )
        return [proba, predict]


def _key(step: Step) -> tuple[str, tuple[tuple[str, float], ...]]:
    return step.name, tuple(sorted(step.parameters.items()))


def _c_long_long(value: int) -> str:
    """``value`` as a ``long long`` constant; the smallest one has no literal of its own
    (``-9223372036854775808LL`` negates a number too large for ``long long``)."""
    if value == np.iinfo(np.int64).min:
        return f"({value + 1}LL - 1)"
    return f"{value}LL"


def _initialized(declaration: str, items: list[str]) -> str:
    """``declaration = { item, ... };``, one item a line."""
    return declaration + " = {\n" + "\n".join(f"    {item}," for item in items) + "\n};"


def _c_chars(text: str) -> list[str]:
    """The UTF-8 bytes of ``text`` and a final NUL as C character constants, 16 a line."""
    chars = [
        f"'{chr(byte)}'" if 32 <= byte < 127 and chr(byte) not in "'\\?" else f"'\\{byte:03o}'"
        for byte in text.encode("utf-8")
    ]
    chars.append("0")
    return [", ".join(chars[start : start + 16]) for start in range(0, len(chars), 16)]


def _c_string(text: str, what: str) -> str:
    """A C string literal for ``text`` (UTF-8; quotes, backslashes, control bytes escaped);
    a ``ValueError`` naming the ``what`` when it holds a NUL, where C would cut it short."""
    if "\0" in text:
        raise ValueError(
            f"cannot write the {what} {text!r} in a C header: it holds a NUL character, "
            "where a C string ends"
        )
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127 and char != "?":  # "?" escaped: no trigraphs
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'
