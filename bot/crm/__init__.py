"""CRM events: the signed envelope, one function per event (written to the outbox in the caller's
transaction), webhook signing and delivery, and the optional HubSpot adapter. Knows leads and
meetings as rows; never the Rasa conversation id (the outside world gets the opaque lead id)."""
