"""Configuration: typed settings from the environment, and the YAML files operators edit.

Knows nothing of the other packages; every other package may use it."""
