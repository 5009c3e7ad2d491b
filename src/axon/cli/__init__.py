"""The ``axon`` command: ``axon train``, ``evaluate``, ``predict``, ``summary``, ``gradcheck``,
``explain``, ``export`` and ``demo``. Entry point: :func:`axon.cli.main.main`."""
