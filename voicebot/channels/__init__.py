"""Channels turn a medium (text, microphone, SIP) into dialog events and actions back into it."""
