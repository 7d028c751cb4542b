"""Nurture: the follow-up sequences (config/nurture.yml), enrolment, and the due steps."""
