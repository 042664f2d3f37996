"""SIP telephony over pjsua2: the bot's server, agent seats, a developer softphone.

Only this package imports pjsua2. Each process holds one endpoint (``sipstack.SipStack``)
driven from one thread; media frames cross to per-call threads through deques.
"""
