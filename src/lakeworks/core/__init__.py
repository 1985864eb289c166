"""Dependency-free foundations: settings, errors, names, time, plugins."""
