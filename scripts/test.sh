#!/bin/sh
# The test command of the README: installs what is missing, builds, runs every test.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
BERTH_SKIP_BUILD=1 exec node scripts/test.mjs "$@"
