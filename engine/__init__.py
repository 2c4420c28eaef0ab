"""NN Playground's training engine: pure NumPy (and SciPy), no Qt.

Usable on its own, e.g. from a notebook::

    from playground.project import load_project, build_session
    session = build_session(load_project("assets/examples/spiral.json"))
    session.step(1000)
    print(session.evaluate())
"""
