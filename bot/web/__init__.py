"""The web process: the widget and demo pages, the reps' inbox, calendar feeds, invites and
unsubscribe pages."""
