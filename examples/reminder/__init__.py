"""An outbound appointment-reminder agent: dial with a context, and the call starts with it."""
