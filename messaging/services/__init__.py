"""Messaging services: every state change of a blast or a delivery is a function here."""
