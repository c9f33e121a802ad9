#!/bin/sh
# make demo: on a bare machine in a few minutes, train a small AtlasNet VAE (mache's defaults) on each of
# two built-in procedural classes, swords and planes, then write reconstructions, novel samples, an
# interpolation and pictures into one folder per class.
#   sh examples/demo.sh [BUILD]   (BUILD holds the mache binary; default build)
# Environment: DEMO_OUT (default demo/); DEMO_DATA, a list of sources (default "procedural:sword:100
# procedural:plane:200"); DEMO_EPOCHS, the epochs of each (default "120 40").
set -eu
BUILD=${1:-build}
MACHE=$BUILD/mache
OUT=${DEMO_OUT:-demo}
DATA=${DEMO_DATA:-procedural:sword:100 procedural:plane:200}
EPOCHS=${DEMO_EPOCHS:-120 40}
[ -x "$MACHE" ] || { echo "demo: no $MACHE (run make)" >&2; exit 1; }
[ "$(echo $DATA | wc -w)" = "$(echo $EPOCHS | wc -w)" ] || { echo "demo: DEMO_DATA and DEMO_EPOCHS differ in length" >&2; exit 1; }
T0=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT"
# one_class SRC E D : the whole recipe for one class into D (its messages on stdout)
one_class() {
    SRC=$1 E=$2 D=$3
    NAME=$(basename "$D")
    echo "== $NAME: $SRC"
    echo "   1/5 data (a few of them as OBJ files in $D/data)"
    case "$SRC" in procedural:*) "$MACHE" data --category "$NAME" --count 8 --out "$D/data" > /dev/null ;; esac

    echo "   2/5 train a VAE with mache's defaults ($E epochs; progress in $D/train.log)"
    # the defaults: cpu preset, KL weight 5e-6 with a 5-epoch warm-up, logvar init -4, template init
    # (the log's KL weight 1 collapses the posterior: examples/experiments/03_vae.sh)
    "$MACHE" train --data "$SRC" --model vae --epochs "$E" --lr-steps $(( E * 4 / 5 )) --out "$D/run" > "$D/train.log" 2>&1 \
        || { tail -5 "$D/train.log" >&2; exit 1; }
    tail -1 "$D/train.log" | sed 's/^/   /'
    "$MACHE" plot "$D/run/log.csv" --y loss,chamfer,kld,test_chamfer_x1e3 --logy --out "$D/curves.png" > /dev/null

    echo "   3/5 reconstruct 8 test shapes"
    "$MACHE" reconstruct --ckpt "$D/run/model.ckpt" --data "$SRC" --out "$D/reconstructions" --count 8 --resolution 2500 > /dev/null
    "$MACHE" eval --ckpt "$D/run/model.ckpt" --data "$SRC" | tail -1 | sed 's/^/   test split: /'

    # the sampler: mache sample's default, the flow prior that mache train fitted to the training latents
    # (it beats a Gaussian mixture on both classes under PointFlow's protocol: README, experiment 8;
    # --prior gmm --fit SRC for the mixture, --prior normal for z ~ N(0, I), which gives fragments)
    echo "   4/5 sample 16 novel shapes (z from the learned flow prior) and interpolate"
    "$MACHE" sample --ckpt "$D/run/model.ckpt" --count 16 --out "$D/samples" --resolution 2500 > /dev/null
    "$MACHE" interpolate --ckpt "$D/run/model.ckpt" --from "$D/reconstructions/000_input.obj" \
        --to "$D/reconstructions/003_input.obj" --steps 8 --out "$D/interpolation" --resolution 2500 > /dev/null

    echo "   5/5 generation metrics of the samples against the test shapes"
    "$MACHE" eval --generated "$D/samples" --reference "$SRC" --points 512 | tail -1 | sed 's/^/   /'
}

# The classes train side by side, one core each: a cpu-preset step is too small to keep two threads
# busy (on 2 cores one class at a time used 1.4 of them), and the learned prior's fit, a few hundred
# steps on 64 latents, runs faster on one thread than on two.
NCLASSES=$(echo $DATA | wc -w)
THREADS=${OMP_NUM_THREADS:-}
[ "$NCLASSES" -gt 1 ] && [ -z "$THREADS" ] && THREADS=1
PICTURES="" PIDS="" DIRS=""
for SRC in $DATA; do
    E=$(echo $EPOCHS | cut -d' ' -f1)
    EPOCHS=$(echo $EPOCHS | cut -s -d' ' -f2-)
    NAME=$(echo "$SRC" | tr ':/' '__')
    case "$SRC" in procedural:*) NAME=$(echo "$SRC" | cut -d: -f2) ;; esac
    D=$OUT/$NAME
    mkdir -p "$D"
    echo "== $NAME: $SRC, $E epochs (progress in $D/train.log)"
    ( [ -n "$THREADS" ] && export OMP_NUM_THREADS=$THREADS; one_class "$SRC" "$E" "$D" > "$D/demo.log" 2>&1 ) &
    PIDS="$PIDS $!" DIRS="$DIRS $D"
    PICTURES="$PICTURES $D/samples/samples.png $D/reconstructions/reconstructions.png $D/interpolation/interpolation.png $D/curves.png"
done
FAILED=0
for P in $PIDS; do wait "$P" || FAILED=1; done
for D in $DIRS; do echo; cat "$D/demo.log"; done
[ "$FAILED" = 0 ] || { echo "demo: a class failed (its log is above)" >&2; exit 1; }

echo
echo "demo done in $(( $(date +%s) - T0 )) s. Pictures:"
for p in $PICTURES; do echo "   $p"; done
echo "meshes: $OUT/*/reconstructions/*.obj, $OUT/*/samples/*.obj, $OUT/*/interpolation/*.obj; models: $OUT/*/run/model.ckpt"
