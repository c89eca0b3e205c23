#!/bin/sh
# release / install_app: install the application into the instance, as a release would.
# Runs in {build_dir}/instance (the step's cwd in demo.toml); DEMO_APP_SOURCE comes from
# the step's env table; STATEMGR_ENV, STATEMGR_PHASE and STATEMGR_STEP from statemgr.
set -eu
: "${DEMO_APP_SOURCE:?is not set: the step's env table names the application to install}"
step="${STATEMGR_STEP:-install_app}"

if [ ! -f "$DEMO_APP_SOURCE" ]; then
    echo "$step: $DEMO_APP_SOURCE does not exist (run 'statemgr demo' again to reinstall the demo files)" >&2
    exit 1
fi
mkdir -p app
# Copy, then rename: a running reader never sees half a file.
cp "$DEMO_APP_SOURCE" app/app.py.new
chmod 755 app/app.py.new
mv -f app/app.py.new app/app.py
printf '%s %s/%s %s\n' "${STATEMGR_ENV:-demo}" "${STATEMGR_PHASE:-release}" "$step" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > app/RELEASE
echo "${STATEMGR_ENV:-demo}: app installed: $(pwd)/app/app.py"
