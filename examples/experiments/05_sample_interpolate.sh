#!/usr/bin/env bash
# Experiment 5: novel shapes z ~ N(0, I) (temperatures 1 and 0.7) and interpolation between two test shapes,
# with generation metrics, from the log's VAE (experiment 3, KL weight 1) and from a VAE with the KL scaled
# to the reconstruction term (experiment 7's setting: KL5, default 1e-5, warm-up, logvar init -6); the AE's
# interpolation for comparison. Models are reused from experiments 3 and 7 when present, else trained.
source "$(dirname "$0")/lib.sh"
init 05_sample_interpolate "sampling and interpolation"

SETS=${SETS5:-swords planes}
KL=${KL5:-1e-5}
table "Samples against unseen reference shapes" "| data | model | prior | temperature | MMD-CD x1e3 | COV-CD % | 1-NNA-CD % |"
for set in $SETS; do
    if [ $set = swords ]; then
        SRC=$SWORDS E=$(epochs 120) EL=$(epochs 120) AE=$RESULTS/03_vae/ae_swords SCALED=$RESULTS/07_past_the_log/vae_kl$KL
    else
        SRC=$PLANES E=$(epochs 25) EL=$(epochs ${VAE_PLANES_EPOCHS:-25}) AE=$RESULTS/01_ae_planes/ae SCALED=$RESULTS/07_past_the_log_planes/vae_kl$KL
    fi
    W=$(( E / 6 > 0 ? E / 6 : 1 ))
    LOG=$RESULTS/03_vae/vae_$set
    train "$LOG" "$EL" --data "$SRC" --model vae --preset cpu --init atlasnet --kl-weight 1 --kl-warmup 0 --logvar-init 0
    train "$SCALED" "$E" --data "$SRC" --model vae --preset cpu --init atlasnet --kl-weight "$KL" --kl-warmup "$W" --logvar-init -6
    N=$(gen_count "$SRC")
    # two test shapes: the first and the fourth of the test split
    reconstruct "$LOG/model.ckpt" "$SRC" "$OUT/ends_$set" 4
    A=$OUT/ends_$set/000_input.obj B=$OUT/ends_$set/003_input.obj
    sheet "$OUT/ends_$set.png" "$A" "$B"
    picture "$OUT/ends_$set.png" "the two end shapes ($set)"
    for m in log scaled; do
        if [ $m = log ]; then D=$LOG label="VAE, KL weight 1 (the log)"; else D=$SCALED label="VAE, KL weight $KL"; fi
        for t in 1 0.7; do
            sample "$D/model.ckpt" "$OUT/samples_${m}_${set}_t$t" "$N" --seed 2 --temperature $t
            eval_gen "$OUT/samples_${m}_${set}_t$t" "$SRC"
            row "| $set | $label | N(0, I) | $t | $MMD | $COV | $NNA |"
            picture "$OUT/samples_${m}_${set}_t$t/first16.png" "$label: samples ($set), temperature $t"
        done
        run "$MACHE" interpolate --ckpt "$D/model.ckpt" --from "$A" --to "$B" --steps 8 --out "$OUT/interp_${m}_$set" --resolution 2500 > "$OUT/interp_${m}_$set.log"
        picture "$OUT/interp_${m}_$set/interpolation.png" "$label: interpolation between test $set 000 and 003 (8 steps)"
    done
    run "$MACHE" interpolate --ckpt "$AE/model.ckpt" --from "$A" --to "$B" --steps 8 --out "$OUT/interp_ae_$set" --resolution 2500 > "$OUT/interp_ae_$set.log"
    picture "$OUT/interp_ae_$set/interpolation.png" "AE interpolation between the same two shapes, for comparison"
done
note "With KL weight 1 the posterior collapses (experiment 3): every sample and every interpolation step decodes to (nearly) the same mean shape. With the KL scaled down the latent carries the shape, and interpolation moves from one end shape to the other."
finish
