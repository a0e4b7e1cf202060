"""Pure domain: pathway definition, state machines, windows and rules. No I/O, no clock reads."""
