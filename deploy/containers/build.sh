#!/usr/bin/env bash
# Build the voicebot images with podman and no registry: the base image is made from Debian's
# own packages (mmdebstrap from the Debian mirror), then each Containerfile builds on it.
# Usage: deploy/containers/build.sh [front-door|app ...]   (default: both). RUN steps use chroot
# isolation (ISOLATION=oci for a full runtime), which works where cgroups are not delegated.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUITE=${SUITE:-bookworm}
BASE=localhost/voicebot-debian:$SUITE
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (Debian: apt-get install podman mmdebstrap)" >&2; exit 2; }
done
if ! podman image exists "$BASE"; then
  say "base image $BASE from Debian's packages (mmdebstrap $SUITE)"
  mmdebstrap --variant=apt --include=ca-certificates,python3,python3-venv "$SUITE" - | podman import - "$BASE"
fi
for image in "${@:-front-door app}"; do
  for one in $image; do
    say "image localhost/voicebot-$one"
    # RUN steps trust what this machine trusts (a site's TLS-inspecting proxy, for pip)
    podman build --isolation "${ISOLATION:-chroot}" --build-arg "BASE=$BASE" \
      -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro -f "deploy/containers/Containerfile.$one" -t "localhost/voicebot-$one" .
  done
done
