#!/bin/sh
# Generates ./configure from configure.ac (needs autoconf, automake, autoconf-archive, pkg-config).
set -e
cd "$(dirname "$0")"
autoreconf --force --install --verbose
