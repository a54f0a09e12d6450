#!/usr/bin/env bash
# The test command from README.md: installs what the tests need (redis-cli and redis-py, for
# the compatibility checks), builds with warnings as errors, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
swift build --build-tests
# Compatibility with real Redis clients, against a real server process.
./scripts/compat-test.sh
# The libFuzzer targets still build and run (briefly: longer runs are fuzz/run.sh's job).
./fuzz/run.sh RESPParserFuzz "${FUZZ_SECONDS:-10}"
./fuzz/run-record.sh "${FUZZ_SECONDS:-10}"
swift test --parallel
