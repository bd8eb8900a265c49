#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench_state.sh - runs bench_state on the plugin builds in $BUILD/bench (make bench).
BUILD=${BUILD:-build}
exec "$BUILD/bench/bench_state" "$BUILD/bench"
