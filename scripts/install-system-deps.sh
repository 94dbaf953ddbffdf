#!/usr/bin/env bash
# Install the Debian packages itsm needs, only those missing.
#   runtime: gettext (compiled translations), Pango/HarfBuzz (WeasyPrint PDFs), a CJK font
#   test:    the runtime ones plus Chromium (headless browser tests)
# Safe to run repeatedly; on a system without apt it only says what is missing.
set -euo pipefail

profile=${1:-runtime}
packages=(gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-noto-cjk)
if [ "$profile" = "test" ]; then
  packages+=(chromium)
fi

missing=()
for package in "${packages[@]}"; do
  # "install ok installed" only: a removed package whose config files remain still answers dpkg -s.
  [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install these system packages: ${missing[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
