#!/bin/sh
# Data-parallel training over MPI (make MPI=1): 2 ranks x 1 thread against one process on the same global
# batch, --resume with another number of ranks, a bad input, a NaN, and a rank killed mid-run.
#   sh tests/test_mpi.sh BUILD     (make test runs it; skipped when Open MPI is not installed)
build=${1:-build}
MAKE=${MAKE:-make}
passed=0; failed=0
check() { if [ "$1" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL test_mpi: $2"; fi; }
if ! command -v mpirun >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
    echo "test_mpi: skipped: no mpirun or mpicc (apt-get install openmpi-bin libopenmpi-dev)"
    echo "test_mpi: 0 passed, 0 failed"
    exit 0
fi
tmp=$(mktemp -d /tmp/mache_mpi_XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The MPI build has a folder of its own (one per OpenMP setting, so objects never mix).
mpibuild=build/mpi; [ "${OPENMP:-1}" = 0 ] && mpibuild=build/mpi-serial
$MAKE -s MPI=1 SANITIZE=0 OPENMP="${OPENMP:-1}" BUILD=$mpibuild $mpibuild/mache > "$tmp/make.log" 2>&1
check $? "make MPI=1: $(tail -5 "$tmp/make.log")"
mpirun="mpirun --oversubscribe -x OMP_NUM_THREADS=1"
[ "$(id -u)" = 0 ] && mpirun="$mpirun --allow-run-as-root"
export OMP_NUM_THREADS=1
# Containers (CI) often forbid the cross-process memory copies Open MPI's shared memory uses by default.
export OMPI_MCA_btl_vader_single_copy_mechanism=none

# Every loss and test metric in log.csv (columns 4-8) within 1e-4 relative.
same_log() {
    awk -F, 'NR == FNR { if (FNR > 1) for (c = 4; c <= 8; c++) a[FNR, c] = $c; rows = FNR; next }
             FNR > 1 { for (c = 4; c <= 8; c++) { d = a[FNR, c] - $c; d = d < 0 ? -d : d; m = a[FNR, c] < 0 ? -a[FNR, c] : a[FNR, c]
                       if (d > 1e-4 * (m > 1e-3 ? m : 1e-3)) { print "row " FNR " column " c ": " a[FNR, c] " vs " $c; bad = 1 } } }
             END { if (FNR != rows) { print FNR " rows against " rows; bad = 1 } exit bad }' "$1" "$2"
}

# Every parameter within 1e-4 too: the biases that a training-mode BatchNorm cancels get a gradient of
# exactly 0 (autograd/ops.c, models/atlasnet.c), not rounding noise that Adam would scale to lr-sized steps.
# No KL warm-up (mache's default is 5 epochs): while the KL weight is near 0, mu.bias feeds only the
# decoder's first layer, whose BatchNorm cancels it too, and would get rounding noise for a gradient.
# --prior none: the learned prior is fitted afterwards by rank 0 alone, as one process, and a flow fitted to
# latents that differ by rounding differs by more; the comparison is of the data-parallel training.
args="--data procedural:sword:30 --model vae --preset tiny --batch 8 --seed 5 --kl-weight 1e-3 --kl-warmup 0 --logvar-init -6 --quiet --prior none"
# One process is the same program (mpirun -np 1): built by another compiler (make CC=clang test), the
# default build rounds differently.
$mpirun -np 1 $mpibuild/mache train $args --epochs 3 --out "$tmp/one" > "$tmp/one.log" 2>&1
check $? "one process trains: $(tail -3 "$tmp/one.log")"
$mpirun -np 2 $mpibuild/mache train $args --epochs 3 --out "$tmp/two" > "$tmp/two.log" 2>&1
check $? "2 ranks train: $(tail -5 "$tmp/two.log")"
[ "$(grep -c '^trained 3 epochs' "$tmp/two.log")" = 1 ]; check $? "one final line from 2 ranks (rank 0 alone prints)"
out=$(same_log "$tmp/one/log.csv" "$tmp/two/log.csv"); check $? "log.csv of 2 ranks against one process: $out"
out=$("$build/ckpt_diff" "$tmp/one/model.ckpt" "$tmp/two/model.ckpt" 1e-4); check $? "final parameters: $out"
echo "test_mpi: 2 ranks against 1 process: $out"

# --resume with another number of ranks: 2 epochs on 2 ranks, the third in one process.
$mpirun -np 2 $mpibuild/mache train $args --epochs 2 --out "$tmp/resumed" > "$tmp/resumed.log" 2>&1
check $? "2 ranks, 2 epochs: $(tail -5 "$tmp/resumed.log")"
$mpirun -np 1 $mpibuild/mache train --resume "$tmp/resumed" --epochs 3 --quiet --prior none > "$tmp/resume.log" 2>&1
check $? "resumed in one process: $(tail -3 "$tmp/resume.log")"
out=$(same_log "$tmp/one/log.csv" "$tmp/resumed/log.csv"); check $? "log.csv of 2 ranks resumed by 1 process: $out"
out=$("$build/ckpt_diff" "$tmp/one/model.ckpt" "$tmp/resumed/model.ckpt" 1e-4); check $? "resumed parameters: $out"

# The learned prior (the default) is fitted by rank 0 alone after training: the job ends, and model.ckpt has it.
timeout 120 $mpirun -np 2 $mpibuild/mache train --data procedural:sword:30 --model ae --preset tiny --batch 8 --epochs 1 --quiet --out "$tmp/prior" > "$tmp/prior.log" 2>&1
check $? "2 ranks with the learned prior: $(tail -3 "$tmp/prior.log")"
$mpibuild/mache info "$tmp/prior/model.ckpt" > "$tmp/prior.info" 2>&1
grep -q "prior=flow" "$tmp/prior.info"; check $? "2 ranks: model.ckpt holds the prior"

# A bad input ends the job with the message, not a hang.
timeout 60 $mpirun -np 2 $mpibuild/mache train --data "$tmp/none" --preset tiny --out "$tmp/bad" > "$tmp/bad.log" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ]; check $? "bad --data: exit $rc"
grep -q "mache train: .*none" "$tmp/bad.log"; check $? "bad --data: the message: $(head -3 "$tmp/bad.log")"

# A loss that overflows is seen by every rank and reported once, by rank 0.
timeout 60 $mpirun -np 2 $mpibuild/mache train $args --epochs 2 --lr 1e4 --out "$tmp/nan" > "$tmp/nan.log" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ]; check $? "--lr 1e4: exit $rc"
[ "$(grep -c 'the loss became' "$tmp/nan.log")" = 1 ]; check $? "--lr 1e4: one message: $(head -3 "$tmp/nan.log")"

# Killing one rank mid-run ends the job within seconds, and the last checkpoint still loads.
$mpirun -np 2 $mpibuild/mache train $args --epochs 1000000 --out "$tmp/kill" > "$tmp/kill.log" 2>&1 &
job=$!
i=0; while [ ! -e "$tmp/kill/last.ckpt" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
victim=
for p in /proc/[0-9]*; do      # rank 1 of this job: its command line names the run folder
    { tr '\0' ' ' < $p/cmdline | grep -q "$tmp/kill" && tr '\0' '\n' < $p/environ |
        grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=${p#/proc/}; } 2>/dev/null
done
[ -n "$victim" ]; check $? "found rank 1 of the running job"
[ -n "$victim" ] && kill "$victim"
i=0; while kill -0 $job 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $job 2>/dev/null && { kill $job; sleep 1; }
wait $job
rc=$?
[ $i -lt 100 ] && [ $rc != 0 ]; check $? "the job ended within 10 s of the kill (exit $rc, $((i / 10)) s)"
grep -q "rank 1" "$tmp/kill.log"; check $? "the job said which rank died: $(tail -3 "$tmp/kill.log")"
"$build/mache" info "$tmp/kill/last.ckpt" > "$tmp/info.log" 2>&1; check $? "the last checkpoint loads: $(tail -2 "$tmp/info.log")"

echo "test_mpi: $passed passed, $failed failed"
[ "$failed" = 0 ]
