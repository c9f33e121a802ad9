#!/usr/bin/env bash
# Run experiments 1-7 in order (each reuses the models of the earlier ones), then print a summary: every
# results.md's tables. The same environment variables as the scripts (QUICK=1 for a smoke test of all).
# Sequential and one core per run: about 2 hours at full speed on one core with the defaults.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ "${QUICK:-0}" = 1 ]; then RESULTS=${RESULTS:-results/quick}; else RESULTS=${RESULTS:-results}; fi
export RESULTS
unset OUT
T0=$(date +%s)
for s in 01_ae_planes 02_ae_random_latents 03_vae 04_variants 05_sample_interpolate 06_transfer 07_past_the_log; do
    bash "$HERE/$s.sh"
done
echo
echo "==================== summary ($(( $(date +%s) - T0 )) s)"
cd "$ROOT"
for s in 01_ae_planes 02_ae_random_latents 03_vae 04_variants 05_sample_interpolate 06_transfer 07_past_the_log; do
    f=$RESULTS/$s/results.md
    echo
    head -1 "$f"
    # the tables and notes, without the commands and picture lists
    awk '/^### Pictures/ { exit } NR > 6' "$f"
    grep '^Wall time' "$f"
done
