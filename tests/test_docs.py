"""The documentation site builds with ``mkdocs build --strict``, and renders in a browser.

One build (module fixture) serves every test here. The browser tests drive Debian's
Chromium through Playwright, as the playground's do, with every request that leaves the
local server refused and recorded: the pages must render with what the site holds.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Seconds the whole build may take (it executes the notebooks too).
BUILD_TIMEOUT = 600

pytest.importorskip("mkdocs", reason="mkdocs (docs extra) missing")
pytest.importorskip("mkdocstrings", reason="mkdocstrings (docs extra) missing")


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "_tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from this checkout, strict, into a temporary folder."""
    target = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return target


def test_strict_build_writes_every_page(site):
    for page in (
        "index.html",
        "getting-started/index.html",
        "article/index.html",
        "architecture/index.html",
        "guide/cli/index.html",
        "reference/tutorial/index.html",
        "reference/model/index.html",
        "notebooks/01_article_step_by_step/index.html",
    ):
        assert (site / page).is_file(), page
    assert (site / "mathjax" / "tex-chtml.js").is_file()
    cli = (site / "guide" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "--early-stopping" in cli and "--8&lt;--" not in cli  # the README's section, pulled in
    notebook = (site / "notebooks" / "01_article_step_by_step" / "index.html").read_text()
    assert "accuracy 100.0%" in notebook  # executed during the build: outputs are on the page
    assert "data:image/png;base64" in notebook


def test_rst_roles_become_markdown_math_and_code():
    rewrite = _load_tool("rst_roles").rewrite
    assert rewrite(r"the slope :math:`\sigma'(z)` of :func:`~mlpzero.activations.sigmoid`") == (
        r"the slope \(\sigma'(z)\) of `sigmoid`"
    )
    assert rewrite(":class:`mlpzero.model.MLP`") == "`mlpzero.model.MLP`"
    block = "Forward:\n\n.. math::\n    Z = W A + b,\n    A = g(Z).\n\nThen more."
    assert rewrite(block) == "Forward:\n\n\n$$\nZ = W A + b,\nA = g(Z)\n$$\n\nThen more."
    assert rewrite("Loss:\n.. math:: J = -y \\log a") == "Loss:\n\n$$\nJ = -y \\log a\n$$\n"


# ---------------------------------------------------------------------- in a browser
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP on 127.0.0.1, on a port the system picks."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test output stays readable
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium installed: `apt-get install chromium` to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) missing")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, served):
    """A page that may load only from the local site; what else it asks for is recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    local = urlsplit(served).netloc
    outside: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def route(route):
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).netloc == local:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(r.url) if r.url not in outside else None)
    yield page
    context.close()
    assert not outside, f"the page asked for resources outside the site: {outside}"
    assert not failed, f"requests that failed: {failed}"
    assert not errors, f"JavaScript errors on the page: {errors}"


def _wait_for_math(page) -> dict:
    """Waits until MathJax has typeset every formula arithmatex marked; returns counts."""
    page.wait_for_function(
        """() => window.MathJax && MathJax.startup && MathJax.startup.promise &&
                 document.querySelectorAll('.arithmatex').length > 0 &&
                 [...document.querySelectorAll('.arithmatex')]
                     .every(e => e.querySelector('mjx-container'))""",
        timeout=30_000,
    )
    return page.evaluate(
        """() => {
        const marked = [...document.querySelectorAll('.arithmatex')];
        const raw = marked.filter(e => /\\\\\\(|\\\\\\[|\\$/.test(e.innerText)).length;
        const empty = [...document.querySelectorAll('mjx-container')]
            .filter(e => e.getBoundingClientRect().width < 1).length;
        const text = document.querySelector('article').innerText;
        return {marked: marked.length, raw, empty,
                rawInText: text.includes('\\\\(') || text.includes('\\\\['),
                display: document.querySelectorAll('mjx-container[display="true"]').length};
    }"""
    )


def test_article_page_renders_its_formulas(page, served):
    page.goto(served + "article/")
    counts = _wait_for_math(page)
    assert counts["marked"] >= 20 and counts["display"] >= 5, counts
    assert counts["raw"] == 0 and not counts["rawInText"], counts  # no TeX left as text
    assert counts["empty"] == 0, counts  # every formula has a size: glyphs were drawn
    # MathJax's fonts came from the site (a failed font load would be in `failed`).
    fonts = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.endsWith('.woff'))"
    )
    assert fonts and all(url.startswith(served + "mathjax/") for url in fonts), fonts


def test_api_page_shows_functions_docstrings_and_formulas(page, served):
    page.goto(served + "reference/tutorial/")
    _wait_for_math(page)
    section = page.locator("#mlpzero\\.tutorial\\.forward_propagation")
    assert section.count() == 1
    heading = section.inner_text()
    assert "forward_propagation" in heading
    body = page.locator("article").inner_text()
    assert "through the network" in body  # forward_propagation's docstring
    assert "Returns (A_L, cache)" in body
    # The docstring of sigmoid holds a :math: role; the site shows it typeset.
    sigmoid = page.locator("div.doc-object:has(> #mlpzero\\.tutorial\\.sigmoid)")
    assert sigmoid.locator("mjx-container").count() >= 1
    assert ":math:" not in body


def test_notebook_page_shows_outputs_and_typeset_markdown(page, served):
    page.goto(served + "notebooks/01_article_step_by_step/")
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-MarkdownOutput mjx-container').length > 10",
        timeout=30_000,
    )
    images = page.locator(".jp-OutputArea img")
    assert images.count() >= 4  # the activation curves and three decision boundaries
    assert "$" not in "".join(page.locator(".jp-MarkdownOutput").all_inner_texts())
