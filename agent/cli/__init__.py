"""The crm-agent command line: thin typer shells over AgentService."""
