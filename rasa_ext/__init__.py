"""Extensions loaded by the Rasa server process (not the action server, not `bot/`)."""
