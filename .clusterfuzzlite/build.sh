#!/bin/bash -eu
# OSS-Fuzz entry point: everything is in the project's own fuzz/build.sh.
# (MSan builds skip the differential harness's jansson, which is not
# instrumented: OSS-Fuzz then reports it as a build without that target.)
export JSMN_DIR=$SRC/jsmn
exec "$SRC/qmpkit/fuzz/build.sh"
