#!/bin/sh
# provision / make_ssh_key: the instance's SSH key pair (ed25519, no passphrase),
# as a cloud provider would hand one out with a new machine.
# Uses the variables statemgr gives every step: STATEMGR_ENV, STATEMGR_STEP, STATEMGR_BUILD_DIR.
set -eu
: "${STATEMGR_BUILD_DIR:?is not set: run this script as a statemgr step}"
: "${STATEMGR_ENV:?is not set: run this script as a statemgr step}"
step="${STATEMGR_STEP:-make_ssh_key}"
instance="$STATEMGR_BUILD_DIR/instance"
key="$instance/id_ed25519"

if [ ! -d "$instance" ]; then
    echo "$step: $instance does not exist (the make_instance step makes it)" >&2
    exit 1
fi
if ! command -v ssh-keygen >/dev/null 2>&1; then
    echo "$step: ssh-keygen not found; install the OpenSSH client (e.g. apt-get install openssh-client)" >&2
    exit 1
fi
# A key left by an earlier, interrupted provision would make ssh-keygen ask before overwriting.
rm -f "$key" "$key.pub"
ssh-keygen -t ed25519 -N "" -q -C "statemgr-$STATEMGR_ENV" -f "$key"
echo "$STATEMGR_ENV: SSH key pair made: $key, $key.pub"
# Hand the public key's path on to later steps (configure's show_ssh_key reads it as
# {outputs.ssh_public_key}); statemgr names the file to write to in STATEMGR_OUTPUT.
echo "ssh_public_key=$key.pub" >> "${STATEMGR_OUTPUT:-/dev/null}"
