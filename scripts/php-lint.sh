#!/usr/bin/env bash
# `php -l` on every PHP file of the plugin; fails on the first syntax error.
set -euo pipefail
count=0
while IFS= read -r -d '' f; do
  php -l "$f" > /dev/null || { echo "php -l failed: $f" >&2; exit 1; }
  count=$((count + 1))
done < <(find wp-plugin-stub -name '*.php' -print0)
echo "php -l: $count files OK"
