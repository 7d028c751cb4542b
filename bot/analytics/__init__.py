"""Funnel analytics: what happened in the conversations, counted, with nothing personal.

`journeys` reads one conversation's tracker events into the milestones a marketer counts
(opened, first message, consent, each question asked and answered, re-asks, scored, qualified,
booked, nurtured) and where the visitor came from; `funnel` aggregates journeys into the daily
funnel, drop-off and re-ask rates per question, speed to lead and breakdowns by page and
campaign; `source` reads the events and outcomes from the databases; `charts` draws the
report as SVG for the inbox. The aggregates hold counts, rates and durations only.
"""
