# Workers, NLU servers and the console: one image, the role is its command (as in deploy/systemd/):
#   podman run --network host -v /etc/voicebot:/etc/voicebot:ro --env-file /etc/voicebot/secrets.env \
#       localhost/voicebot-app serve                  (a worker)
#   ... localhost/voicebot-app nlu serve --lang en-US (the NLU host)
#   ... localhost/voicebot-app console                (the console host)
# Set-up is the project's own (scripts/setup.sh): pinned Python packages, the Vosk models from
# their pinned sources, the Rasa models trained from nlu_data/, the static prompts rendered.
ARG BASE=localhost/voicebot-debian:bookworm
FROM ${BASE}
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv python3.11-dev gcc libc6-dev espeak-ng libportaudio2 sox \
    && rm -rf /var/lib/apt/lists/*
COPY . /opt/voicebot
WORKDIR /opt/voicebot
RUN VOICEBOT_SETUP_APT=no scripts/setup.sh && rm -rf var /root/.cache
RUN mkdir -p /etc/voicebot /var/lib/voicebot /var/log/voicebot
ENTRYPOINT ["/opt/voicebot/.venv/bin/voicebot", "--config", "/etc/voicebot/voicebot.toml"]
CMD ["serve"]
