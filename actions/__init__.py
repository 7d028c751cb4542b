"""Rasa SDK actions: thin adapters that read the tracker, call `bot/`, and return events.

Run with `python -m bot serve --role actions` (which reads `.env` first); every module here
is registered.
"""
