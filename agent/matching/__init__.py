"""Matching participants to contacts and companies, and de-duplicating both."""
