"""Model hosting: models, endpoint configs, endpoints, and the model servers behind them.

Import :mod:`lakeworks.hosting.service` for the operations. This package file imports nothing,
so the model server process (:mod:`lakeworks.hosting.model_server`) loads none of the server's
modules when it imports its own.
"""
