"""Reps' sign-in: accounts (email + argon2 password hash), server-side sessions, login
throttling. Knows nothing about HTTP (bot/web/auth.py turns it into cookies and forms)."""
