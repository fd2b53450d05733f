"""crm-agent: captures a company's email and meeting history into its CRM store, exactly once, and acts on it."""

__version__ = "0.1.0"
