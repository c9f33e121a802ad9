#!/bin/sh
# The model's multiplies in both precisions against the peers, GFLOP/s, medians of ROUNDS alternating runs
# (mache fp32, mache bf16, OpenBLAS fp32 through numpy, PyTorch bf16; each a separate process, so a
# drift of the machine's speed hits all four alike). The peers are optional and never linked.
#   sh examples/bench/gemm_vs.sh BUILD_DIR [ROUNDS]
build=${1:-build}; rounds=${2:-3}
mache="$build/mache"; py=/usr/bin/python3; twin="$(dirname "$0")/torch_twin.py"
[ -x "$mache" ] || { echo "gemm_vs.sh: $mache not found (run make first)" >&2; exit 1; }
have_np=0; $py -c 'import numpy' 2>/dev/null && have_np=1
have_torch=0; $py -c 'import torch' 2>/dev/null && have_torch=1

# numpy's matmul on transposed views calls the BLAS with its transpose flags, as mache is called
numpy_gflops() {  # M K N TA TB
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="${OMP_NUM_THREADS:-2}" $py - "$@" <<'PY'
import sys, time, statistics, numpy as np
m, k, n, ta, tb = map(int, sys.argv[1:])
r = np.random.default_rng(1)
A = (r.random((k, m), dtype=np.float32).T if ta else r.random((m, k), dtype=np.float32)) * 2 - 1
B = (r.random((n, k), dtype=np.float32).T if tb else r.random((k, n), dtype=np.float32)) * 2 - 1
A = A.T.copy().T if ta else A; B = B.T.copy().T if tb else B
t0, warm = time.perf_counter(), 0
while warm < 2 or (warm < 50 and time.perf_counter() - t0 < 0.05): A @ B; warm += 1
reps = max(5, min(1000, int(0.5 / ((time.perf_counter() - t0) / warm)))); ts = []
for _ in range(reps):
    t = time.perf_counter(); A @ B; ts.append(time.perf_counter() - t)
print(f"{2.0 * m * n * k / statistics.median(ts) * 1e-9:.1f}")
PY
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

gemm_row() {  # WHAT M K N [--trans-a] [--trans-b]
    what=$1; m=$2; k=$3; n=$4; shift 4
    ta=0; tb=0; for f in "$@"; do [ "$f" = --trans-a ] && ta=1; [ "$f" = --trans-b ] && tb=1; done
    : > /tmp/gemm_vs.$$.f; : > /tmp/gemm_vs.$$.b; : > /tmp/gemm_vs.$$.o; : > /tmp/gemm_vs.$$.t
    i=0
    while [ $i -lt "$rounds" ]; do
        "$mache" bench gemm --m "$m" --k "$k" --n "$n" "$@" | tail -n 1 | sed -E 's/.*gflops=//' >> /tmp/gemm_vs.$$.f
        "$mache" bench gemm --m "$m" --k "$k" --n "$n" "$@" --precision bf16 2>/dev/null | tail -n 1 | sed -E 's/.*gflops=//' >> /tmp/gemm_vs.$$.b
        [ $have_np = 1 ] && numpy_gflops "$m" "$k" "$n" $ta $tb >> /tmp/gemm_vs.$$.o
        [ $have_torch = 1 ] && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $py "$twin" gemm --threads "${OMP_NUM_THREADS:-2}" \
            --m "$m" --k "$k" --n "$n" "$@" --bf16 | tail -n 1 | sed -E 's/.*gflops=//' >> /tmp/gemm_vs.$$.t
        i=$((i + 1))
    done
    printf '%-34s %-3s %14s %9s %9s %9s %9s\n' "$what" "$([ $ta = 1 ] && echo T || echo N)$([ $tb = 1 ] && echo T || echo N)" \
        "$m x $k x $n" "$(median < /tmp/gemm_vs.$$.f)" "$(median < /tmp/gemm_vs.$$.b)" \
        "$([ $have_np = 1 ] && median < /tmp/gemm_vs.$$.o || echo -)" "$([ $have_torch = 1 ] && median < /tmp/gemm_vs.$$.t || echo -)"
    rm -f /tmp/gemm_vs.$$.*
}
linear_rows() { gemm_row "$1 fwd" "$2" "$3" "$4" --trans-b; gemm_row "$1 dx" "$2" "$4" "$3"; gemm_row "$1 dW" "$4" "$2" "$3" --trans-a; }

echo "threads: OMP_NUM_THREADS=${OMP_NUM_THREADS:-all}; $("$mache" bench peak | tail -n 1)"
printf '%-34s %-3s %14s %9s %9s %9s %9s\n' "GFLOP/s" "op" "M x K x N" "mache" "mache" "OpenBLAS" "PyTorch"
printf '%-34s %-3s %14s %9s %9s %9s %9s\n' "" "" "" "fp32" "bf16" "fp32" "bf16"
. "$(dirname "$0")/model_gemms.sh"
model_gemms
echo "$("$mache" bench peak | tail -n 1) (after)"
