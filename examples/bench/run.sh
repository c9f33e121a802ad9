#!/bin/sh
# `make bench`: the model's hot paths, timed by `mache bench`, one table row each.
#   sh examples/bench/run.sh BUILD_DIR
# More benchmarks append their rows below: add a function like gemm_row and call it.
# Each row is a median over repeated calls. On a machine shared with other jobs, OpenMP's default
# spin-waiting makes the two-thread medians jump by whole scheduler ticks (4 ms); run with
# OMP_WAIT_POLICY=passive there, or OMP_NUM_THREADS=1 for one core's figures.
build=${1:-build}
mache="$build/mache"
[ -x "$mache" ] || { echo "run.sh: $mache not found (run make first)" >&2; exit 1; }
status=0

# gemm_row WHAT M K N [--trans-a] [--trans-b]: one multiply C (M x N) = op(A) (M x K) op(B) (K x N).
gemm_row() {
    g_what=$1; g_m=$2; g_k=$3; g_n=$4; shift 4   # sh has no locals: every function's names are its own
    line=$("$mache" bench gemm --m "$g_m" --k "$g_k" --n "$g_n" "$@" | tail -n 1) || { status=1; return; }
    layout=$(echo "$line" | sed -E 's/^gemm ([NT]{2}) .*/\1/')
    kernel=$(echo "$line" | sed -E 's/.*kernel=([a-z0-9]+).*/\1/')
    ms=$(echo "$line" | sed -E 's/.*median_ms=([0-9.]+).*/\1/')
    gf=$(echo "$line" | sed -E 's/.*gflops=([0-9.]+).*/\1/')
    printf '%-30s %-3s %6s %6s %6s %-9s %10s %9s\n' "$g_what" "$layout" "$g_m" "$g_k" "$g_n" "$kernel" "$ms" "$gf"
}

# A linear layer y = x W^T with W (out,in) over M rows costs three multiplies:
#   forward  y  = x W^T    NT  M x in  -> M x out
#   backward dx = dy W     NN  M x out -> M x in
#   backward dW = dy^T x   TN  out x in, reduced over the M rows
linear_rows() {
    l_name=$1; l_m=$2; l_in=$3; l_out=$4
    gemm_row "$l_name fwd" "$l_m" "$l_in" "$l_out" --trans-b
    gemm_row "$l_name dx" "$l_m" "$l_out" "$l_in"
    gemm_row "$l_name dW" "$l_out" "$l_m" "$l_in" --trans-a
}

echo "threads: OMP_NUM_THREADS=${OMP_NUM_THREADS:-all} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-default}"
# the ceiling every GFLOP/s below is measured against
peak=$("$mache" bench peak) || status=1
printf '%s\n' "$peak" | tail -n 1 | sed 's/^/multiply-add peak: /'
printf '%-30s %-3s %6s %6s %6s %-9s %10s %9s\n' "gemm (model shapes)" "op" "M" "K" "N" "kernel" "median_ms" "GFLOP/s"
. "$(dirname "$0")/model_gemms.sh"
model_gemms

# The whole model: training steps (forward, backward, Adam), Chamfer, and mesh decoding.
echo
printf '%-34s %s\n' "model" "figures"
model_row() {
    m_what=$1; shift
    out=$("$mache" bench "$@") || { status=1; return; }
    # train's step line has the GFLOP/s; every bench's last line has the headline figures
    step=$(printf '%s\n' "$out" | grep '^step ' | sed -E 's/.*(gflops=[0-9.]+).*/\1 /')
    printf '%-34s %s%s\n' "$m_what" "$step" "$(printf '%s\n' "$out" | tail -n 1)"
}
model_row "train cpu preset, batch 16" train --preset cpu --batch 16 --steps 5
model_row "train paper preset, batch 8" train --preset paper --batch 8 --steps 3
model_row "chamfer 32 x 2500 vs 2500, fwd+bwd" chamfer --batch 32 --points 2500
model_row "sample cpu preset, 30000 vertices" sample --preset cpu --resolution 30000
model_row "sample paper preset, 30000 vertices" sample --preset paper --resolution 30000

# The same model in PyTorch, where it is installed (never needed by mache): one command, same machine.
twin="$(dirname "$0")/torch_twin.py"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo
    printf '%-34s %s\n' "PyTorch twin" "figures"
    torch_row() {
        t_what=$1; shift
        line=$(/usr/bin/python3 "$twin" "$@" | tail -n 1) || { status=1; return; }
        printf '%-34s %s\n' "$t_what" "$line"
    }
    torch_row "torch train cpu preset, batch 16" train --preset cpu --batch 16 --steps 5
    torch_row "torch train paper preset, batch 8" train --preset paper --batch 8 --steps 3
    torch_row "torch, split first layer" train --preset paper --batch 8 --steps 3 --split-first-layer
else
    echo
    echo "(PyTorch not installed: apt-get install python3-torch adds the side-by-side rows)"
fi
exit $status
