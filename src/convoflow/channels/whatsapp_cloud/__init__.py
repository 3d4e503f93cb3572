"""WhatsApp Business numbers through Meta's Cloud API: Graph webhooks in, the messages endpoint out."""
