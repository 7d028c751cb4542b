"""Leads: the one lead record and its views (export, CSV, CRM, "what we know"), the lead
store with consent and erasure, the reps' queries (search, filters, pages), and where a lead
came from."""
