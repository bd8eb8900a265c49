#!/bin/sh
# bench_state.sh - runs bench_state on the plugin builds in $BUILD/bench (make bench).
BUILD=${BUILD:-build}
exec "$BUILD/bench/bench_state" "$BUILD/bench"
