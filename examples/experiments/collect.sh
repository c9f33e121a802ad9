#!/usr/bin/env bash
# collect.sh NAME [PNG...] : copy results/NAME/results.md, and the named pictures (paths relative to
# results/NAME; the scripts' small sheets, first16.png and pairs8.png, are meant for this), into the committed
# examples/experiments/results/NAME/. Picture paths in the copy point at the copied files.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RESULTS=${RESULTS:-results}
name=$1
shift
src=$RESULTS/$name
dst=examples/experiments/results/$name
mkdir -p "$dst"
cp "$src/results.md" "$dst/results.md"
for p in "$@"; do
    flat=$(echo "$p" | tr / _)
    cp "$src/$p" "$dst/$flat"
    sed -i "s#\`$src/$p\`#[\`$flat\`]($flat)#" "$dst/results.md"
done
du -ch "$dst"/*.png 2>/dev/null | tail -1 || true   # none is fine
