"""The outbox: deliveries written in the transaction that caused them (queue), sent by
the worker over SMTP and webhooks (delivery), with retries."""
