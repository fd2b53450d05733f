"""The ingest pipeline: the sync engine, its state machine and the stages every item goes through."""
