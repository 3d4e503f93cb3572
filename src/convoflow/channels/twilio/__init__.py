"""SMS and MMS through Twilio: form-encoded webhooks in, the Messages REST API out."""
