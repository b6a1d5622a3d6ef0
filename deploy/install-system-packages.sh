#!/bin/sh
# Installs the Debian packages listed in deploy/apt-packages.txt that are not yet installed.
set -eu
here=$(dirname "$0")
missing=""
for pkg in $(grep -v '^#' "$here/apt-packages.txt" | tr -s ' \n' ' '); do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
