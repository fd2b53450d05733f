"""Meetings on the timeline: calendar occurrences and invitations as interactions, and meeting.ended events."""
