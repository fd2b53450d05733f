"""The starter config `crm-agent init` writes: the few keys a first setup needs (config.example.toml has them all)."""

STARTER = '''\
# crm-agent configuration. Every key is documented in config.example.toml.
# Check it with: crm-agent config check

# Your company's mail domains: mail between these addresses only is internal.
own_domains = ["example.fr"]
timezone = "Europe/Paris"
country = "FR"

# database = "sqlite:///path/to/crm-agent.db"          # default: the XDG data dir
# database = "postgresql+psycopg://crm@db.example.fr/crm"

[[accounts]]
name = "my-mailbox"
kind = "imap"
host = "imap.example.fr"
username = "me@example.fr"
password = "env:CRM_IMAP_PASSWORD"        # or "cmd:pass show imap/me", "keyring:crm-agent/me"
# folders = ["INBOX", "Sent"]             # default: INBOX and the Sent folder
# since = "2024-01-01"                    # first backfill starts here
visibility = "snippet"                    # metadata | subject | snippet | full
'''
