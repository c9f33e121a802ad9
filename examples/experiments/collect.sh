#!/usr/bin/env bash
# collect.sh NAME [PNG...] : copy results/NAME/results.md, and the named pictures (paths relative to
# results/NAME, at most ~60 KB each after shrinking with ImageMagick when it is there), into the committed
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
    if command -v convert > /dev/null; then
        convert "$src/$p" -resize '900x900>' -colors 96 "$dst/$flat"
    else
        cp "$src/$p" "$dst/$flat"
    fi
    sed -i "s#\`$src/$p\`#[\`$flat\`]($flat)#" "$dst/results.md"
done
du -ch "$dst"/*.png 2>/dev/null | tail -1
