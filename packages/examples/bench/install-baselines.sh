#!/bin/sh
# Installs the bench's baselines from Debian: Python 3 with Trio (python3-trio, for
# /usr/bin/python3) and Go (golang-go). `pnpm bench:install` runs this.
set -eu
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-trio golang-go
/usr/bin/python3 -c 'import trio, sys; print("Python", sys.version.split()[0], "Trio", trio.__version__)'
go version
