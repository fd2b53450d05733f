"""Read models: what the CLI prints and the page shows, as plain JSON-ready dicts built from the store."""
