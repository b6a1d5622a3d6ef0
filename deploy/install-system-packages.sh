#!/bin/sh
# Installs the Debian packages listed in deploy/apt-packages.txt that are not yet installed.
# nodejs and npm (the browser library's type check and lint) are left out where a working
# node (18.18 or newer, what TypeScript and ESLint need) and npm are already on the PATH:
# a node installed from elsewhere (NodeSource, nvm) would conflict with Debian's npm.
set -eu
here=$(dirname "$0")

node_works() {
    version=$(node --version 2>/dev/null) || return 1 # v20.20.2
    version=${version#v}
    major=${version%%.*}
    minor=${version#*.}
    minor=${minor%%.*}
    [ "$major" -gt 18 ] 2>/dev/null || { [ "$major" -eq 18 ] && [ "$minor" -ge 18 ]; } 2>/dev/null ||
        return 1
    npm --version >/dev/null 2>&1
}

skip=""
if node_works; then
    skip="nodejs npm"
fi
missing=""
for pkg in $(grep -v '^#' "$here/apt-packages.txt" | tr -s ' \n' ' '); do
    case " $skip " in *" $pkg "*) continue ;; esac
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
