#!/bin/sh
echo "coverage collection through Bazel is not supported offline" >&2
exit 1
