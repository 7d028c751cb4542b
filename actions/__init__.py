"""Rasa SDK actions: thin adapters that read the tracker, call `bot/`, and return events.

Run with `python -m rasa_sdk --actions actions`; every module here is registered.
"""

from dotenv import load_dotenv

# The action server is an entry point: read .env here (never overriding the environment).
load_dotenv()
