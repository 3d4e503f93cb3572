"""Web Chat: the embeddable widget's channel. Convoflow is the provider, so messages never leave it."""
