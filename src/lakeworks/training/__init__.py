"""Training with built-in algorithms.

Pure modules, importable inside a job process (no database, no server):

* :mod:`~lakeworks.training.images` — which algorithm an image URI or name stands for;
* :mod:`~lakeworks.training.algorithms` — the algorithms (XGBoost, Linear Learner, k-means, PCA,
  k-NN, Random Cut Forest, factorization machines, LightGBM, MLP) and ``load_model``;
* :mod:`~lakeworks.training.formats` — CSV, libsvm, Parquet and RecordIO-protobuf input;
* :mod:`~lakeworks.training.metrics` — metric log lines and the final-metrics contract;
* :mod:`~lakeworks.training.entrypoint` — ``python -m lakeworks.training.entrypoint``.

Importing this package imports none of them (the server only needs ``images``).
"""
