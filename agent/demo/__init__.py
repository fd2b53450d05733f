"""crm-agent demo: the bundled sample company and the code that plays it."""
