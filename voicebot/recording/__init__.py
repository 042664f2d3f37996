"""Call recordings: every SIP and browser call, caller, bot and agent on their own channels, FLAC,
encrypted at rest, paused while card data is collected, kept ``[recording] keep_days``.

``recorder`` listens to one call (its events and audio), ``store`` keeps and reads recordings,
``sealing`` holds the key and the cipher, ``settings`` the ``[recording]`` table.
"""
