"""NN Playground's training engine: pure NumPy (and SciPy), no Qt.

Usable on its own, e.g. from a notebook: ``engine.graph`` (parse and compile a
network), ``engine.data.load_dataset``, ``engine.network.Network`` and
``engine.session.TrainingSession``.  To train straight from a project file, the
application's ``playground.project.build_session`` assembles these (it needs no
Qt either).
"""
