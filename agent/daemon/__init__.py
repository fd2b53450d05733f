"""The long-running service: `crm-agent run` supervises account loops, timers, the drop folder and the page."""
