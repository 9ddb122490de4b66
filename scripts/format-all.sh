#!/usr/bin/env bash
# Rewrites the code to the style `biome check` asks for (biome.jsonc), lines of at most 120 characters
# included, repeating until nothing changes; then checks that the code compiles as before (only its look
# changed). `npm run format`; needs python3. Biome leaves what it cannot fix by itself: see docs/development.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin

sources() { git ls-files --cached --others --exclude-standard -- '*.ts' '*.tsx' '*.js'; }
state() { git ls-files --cached --others --exclude-standard -z | xargs -0 cat 2>/dev/null | sha1sum; }

before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
sources | tar -cf - -T - | tar -xf - -C "$before"

rounds=0
while :; do
  rounds=$((rounds + 1))
  if [ "$rounds" -gt 8 ]; then
    echo "format-all: still changing after 8 rounds" >&2
    exit 1
  fi
  was=$(state)
  # The formatter, the safe fixes and sorted imports (the unfixable findings are left for a person).
  $bin/biome check --write . >/dev/null 2>&1 || true
  # Concatenations on one line as templates: a fix Biome calls unsafe, as it differs for an object whose
  # valueOf and toString disagree (`+` calls the one, a template the other); ours join strings and numbers.
  $bin/biome lint --write --unsafe --only=lint/style/useTemplate . >/dev/null 2>&1 || true
  $bin/biome format --write . >/dev/null 2>&1 || true
  # Comments and string literals still over the limit: Biome's formatter never breaks them.
  sources | xargs python3 scripts/wrap-long-lines.py
  [ "$(state)" = "$was" ] && break
done
# A cut the formatter puts back on one line was no help: the formatter has the last word, a person the rest.
$bin/biome format --write . >/dev/null 2>&1 || true
echo "format-all: stable after $rounds rounds"
$bin/bun scripts/same-compiled-code.ts "$before"
