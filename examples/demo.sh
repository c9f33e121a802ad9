#!/bin/sh
# make demo: on a bare machine in a few minutes, train a small AtlasNet VAE on built-in procedural swords,
# then write its reconstructions, novel samples, an interpolation and pictures into one folder.
#   sh examples/demo.sh [BUILD]   (BUILD holds the mache binary; default build)
# Environment: DEMO_OUT (default demo/), DEMO_DATA (default procedural:sword:100), DEMO_EPOCHS (default 120).
set -eu
BUILD=${1:-build}
MACHE=$BUILD/mache
OUT=${DEMO_OUT:-demo}
DATA=${DEMO_DATA:-procedural:sword:100}
EPOCHS=${DEMO_EPOCHS:-120}
STEP=$(( EPOCHS * 4 / 5 ))
[ -x "$MACHE" ] || { echo "demo: no $MACHE (run make)" >&2; exit 1; }
T0=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1/5 data: $DATA (a few of them as OBJ files in $OUT/data)"
CAT=$(echo "$DATA" | cut -d: -f2)
case "$DATA" in procedural:*) "$MACHE" data --category "$CAT" --count 8 --out "$OUT/data" > /dev/null ;; esac

echo "== 2/5 train a VAE ($EPOCHS epochs, cpu preset, KL weight 3e-5 with warm-up; progress in $OUT/train.log)"
# KL weight 3e-5: the KL is summed over 256 latent dimensions, the Chamfer is a per-point mean ~1e-3
# (weight 1 collapses the posterior: see examples/experiments/07_past_the_log.sh)
"$MACHE" train --data "$DATA" --model vae --preset cpu --epochs "$EPOCHS" --lr-steps "$STEP" \
    --kl-weight 3e-5 --kl-warmup $(( EPOCHS / 6 + 1 )) --logvar-init -6 --out "$OUT/run" > "$OUT/train.log" 2>&1 \
    || { tail -5 "$OUT/train.log" >&2; exit 1; }
tail -1 "$OUT/train.log"
"$MACHE" plot "$OUT/run/log.csv" --y loss,chamfer,kld,test_chamfer_x1e3 --logy --out "$OUT/curves.png" > /dev/null

echo "== 3/5 reconstruct 8 test shapes"
"$MACHE" reconstruct --ckpt "$OUT/run/model.ckpt" --data "$DATA" --out "$OUT/reconstructions" --count 8 --resolution 2500 > /dev/null
"$MACHE" eval --ckpt "$OUT/run/model.ckpt" --data "$DATA" | tail -1 | sed 's/^/   test split: /'

echo "== 4/5 sample 16 novel shapes (z ~ N(0, 0.7^2 I): temperature 0.7) and interpolate between two test shapes"
"$MACHE" sample --ckpt "$OUT/run/model.ckpt" --count 16 --out "$OUT/samples" --resolution 2500 --temperature 0.7 > /dev/null
"$MACHE" interpolate --ckpt "$OUT/run/model.ckpt" --from "$OUT/reconstructions/000_input.obj" \
    --to "$OUT/reconstructions/003_input.obj" --steps 8 --out "$OUT/interpolation" --resolution 2500 > /dev/null

echo "== 5/5 generation metrics of the samples against the test shapes"
"$MACHE" eval --generated "$OUT/samples" --reference "$DATA" --points 512 | tail -1 | sed 's/^/   /'

echo
echo "demo done in $(( $(date +%s) - T0 )) s. Pictures:"
for p in reconstructions/reconstructions.png samples/samples.png interpolation/interpolation.png curves.png; do
    echo "   $OUT/$p"
done
echo "meshes: $OUT/reconstructions/*.obj, $OUT/samples/*.obj, $OUT/interpolation/*.obj; model: $OUT/run/model.ckpt"
