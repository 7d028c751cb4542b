"""The conversation: the order of the questions and what one visitor turn means.

Pure decisions over plain values (the tracker's facts come in as arguments); never imports Rasa."""
