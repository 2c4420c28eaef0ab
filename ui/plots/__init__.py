"""Live plots: each widget owns its pyqtgraph items and updates them in place."""
