"""The web process: the widget and demo pages, the reps' inbox (sign-in, search, downloads),
calendar feeds, invites, meeting and unsubscribe pages.

app.py wires it; urls.py names every path; routes/ holds one module per area; auth.py turns
bot/accounts into cookies, CSRF checks and the API key; templating.py renders templates/ (one
base layout) and serves static/. Must not hold business rules or SQL: those live in bot/leads,
bot/booking, bot/nurture, bot/storage."""
