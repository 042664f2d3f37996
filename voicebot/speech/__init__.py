"""Speech: Vosk recognition, pyttsx3 synthesis, the prompt cache, model fetching. Shared by the mic and SIP channels."""
