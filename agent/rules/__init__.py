"""Rules: what they say (spec, conditions, delays, templates) and the engine that arms and fires them."""
