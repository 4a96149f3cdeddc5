"""The Voice Nexus Service documentation's own agent: look up a name by phone number, or a number by name."""
