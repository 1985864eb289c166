"""Autoscaling of endpoint variants (Application Auto Scaling): targets, policies, activities.

``decision`` is the pure decision, ``metrics`` the metrics a policy follows, ``store`` the
tables, ``controller`` the thread that applies policies, ``service`` the operations.
"""
