"""Telegram bots through the Bot API: webhook in, `sendMessage`/`sendPhoto`/... out."""
