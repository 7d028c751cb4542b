"""Scoring: the rules sales-ops edit (config/scoring.yml) and the pure score over a lead's facts."""
