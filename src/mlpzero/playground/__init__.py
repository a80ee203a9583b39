"""mlpzero playground: watch a network learn in the browser, on the real engine.

Start it with ``mlpzero playground`` (or :func:`mlpzero.playground.server.main`). The page
is plain HTML, CSS and JavaScript shipped in ``static/``; all training happens in the
server with :class:`mlpzero.MLP`, and each frame the page draws is computed by it.

Modules: :mod:`~mlpzero.playground.data` (the 2-D datasets and input features),
:mod:`~mlpzero.playground.settings` (every setting, its limits and its validation),
:mod:`~mlpzero.playground.session` (one run: data, model, frames, export) and
:mod:`~mlpzero.playground.server` (the web app). Install the extra with
``pip install 'mlpzero[playground]'``.
"""
