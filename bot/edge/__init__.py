"""The public HTTP edge: client addresses, rate limits, replayed messages, chat request checks.

Plain Python: no Rasa, no web framework (rasa_ext/ and bot/web/ translate HTTP to it)."""
