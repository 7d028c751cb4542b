"""Running the stack: the trained model's cache and the launcher that starts each process."""
