"""Handoff to a person: the request's state machine, routing to a rep who is working now, the
queue reps see, the wait deadline, notifications through the outbox, and the messages the
widget long-polls for. Plain Python: it knows neither Rasa nor the web framework."""
