"""RGPD: give a person's data back (export) or erase it for good (erase, then never re-import)."""
