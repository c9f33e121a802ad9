#!/usr/bin/env bash
# Experiment 5: novel shapes from the VAE of experiment 3 (z ~ N(0, I), at temperatures 1 and 0.5) and
# interpolation between two test shapes, with generation metrics; the AE's interpolation for comparison.
source "$(dirname "$0")/lib.sh"
init 05_sample_interpolate "sampling and interpolation with the log's VAE"

SETS=${SETS5:-swords planes}
table "Samples of the log's VAE (KL weight 1) against the test split" "| data | model | prior | temperature | MMD-CD x1e3 | COV-CD % | 1-NNA-CD % |"
for set in $SETS; do
    if [ $set = swords ]; then
        SRC=$SWORDS E=$(epochs 120) AE=$RESULTS/03_vae/ae_swords
    else
        SRC=$PLANES E=$(epochs ${VAE_PLANES_EPOCHS:-25}) AE=$RESULTS/01_ae_planes/ae
    fi
    VAE=$RESULTS/03_vae/vae_$set
    train "$VAE" "$E" --data "$SRC" --model vae --preset cpu --kl-weight 1
    N=$(gen_count "$SRC")
    for t in 1 0.5; do
        sample "$VAE/model.ckpt" "$OUT/samples_${set}_t$t" "$N" --seed 2 --temperature $t
        eval_gen "$OUT/samples_${set}_t$t" "$SRC"
        row "| $set | VAE | N(0, I) | $t | $MMD | $COV | $NNA |"
        picture "$OUT/samples_${set}_t$t/first16.png" "VAE samples ($set), temperature $t"
    done
    # two test shapes: the first and the fourth of the test split
    reconstruct "$VAE/model.ckpt" "$SRC" "$OUT/ends_$set" 4
    A=$OUT/ends_$set/000_input.obj B=$OUT/ends_$set/003_input.obj
    run "$MACHE" interpolate --ckpt "$VAE/model.ckpt" --from "$A" --to "$B" --steps 8 --out "$OUT/interp_vae_$set" --resolution 2500 > "$OUT/interp_vae_$set.log"
    picture "$OUT/interp_vae_$set/interpolation.png" "VAE interpolation between test $set 000 and 003 (8 steps)"
    if [ -f "$AE/model.ckpt" ]; then
        run "$MACHE" interpolate --ckpt "$AE/model.ckpt" --from "$A" --to "$B" --steps 8 --out "$OUT/interp_ae_$set" --resolution 2500 > "$OUT/interp_ae_$set.log"
        picture "$OUT/interp_ae_$set/interpolation.png" "AE interpolation between the same two shapes, for comparison"
    fi
    sheet "$OUT/ends_$set.png" "$A" "$B"
    picture "$OUT/ends_$set.png" "the two end shapes ($set)"
done
note "With KL weight 1 the VAE's posterior collapses to (nearly) the prior, so its samples and interpolations are all close to one mean shape: low diversity (COV) even where each sample looks plausible."
finish
