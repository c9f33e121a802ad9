#!/usr/bin/env bash
# Run experiments 1-7, 9 and 10 in order (each reuses the models of the earlier ones), then print a summary: every
# results.md's tables. The same environment variables as the scripts (QUICK=1 for a smoke test of all).
# Sequential and one core per run: about 2 hours at full speed on one core with the defaults.
# EXP7_PLANES=1 also runs experiment 7 on planes (KL_WEIGHTS_PLANES, default "3e-5 1e-5").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ "${QUICK:-0}" = 1 ]; then RESULTS=${RESULTS:-results/quick}; else RESULTS=${RESULTS:-results}; fi
export RESULTS
unset OUT
T0=$(date +%s)
for s in 01_ae_planes 02_ae_random_latents 03_vae 04_variants 05_sample_interpolate 06_transfer 07_past_the_log 09_template_init 10_default_vae; do
    bash "$HERE/$s.sh"
done
S7P=
if [ "${EXP7_PLANES:-0}" = 1 ]; then   # experiment 7 again on planes, against experiments 1-3's models
    P=${PLANES:-$([ "${QUICK:-0}" = 1 ] && echo procedural:plane:40 || echo procedural:plane:1000)}
    DATA7=$P OUT=$RESULTS/07_past_the_log_planes KL_WEIGHTS=${KL_WEIGHTS_PLANES:-3e-5 1e-5} bash "$HERE/07_past_the_log.sh"
    S7P=07_past_the_log_planes
fi
echo
echo "==================== summary ($(( $(date +%s) - T0 )) s)"
cd "$ROOT"
for s in 01_ae_planes 02_ae_random_latents 03_vae 04_variants 05_sample_interpolate 06_transfer 07_past_the_log $S7P 09_template_init 10_default_vae; do
    f=$RESULTS/$s/results.md
    echo
    head -1 "$f"
    # the tables and notes, without the commands and picture lists
    awk '/^### Pictures/ { exit } NR > 6' "$f"
    grep '^Wall time' "$f"
done
