"""The custom channel (CRM-CHAN-06): any system speaks to convoflow through signed JSON webhooks."""
