"""Scale-out: many `voicebot serve` workers behind Kamailio, sharing Rasa NLU servers.

``kamailio`` renders the front door's configuration and runs it, ``nlu_servers`` runs one
``voicebot.nlu.server`` per language, ``supervisor`` starts, watches and restarts the
workers and stops everything cleanly. Everything here is processes and files: no pjsua2.
"""
