"""Booking: reps and routing, free slots, atomic booking, and calendar invites (.ics)."""
