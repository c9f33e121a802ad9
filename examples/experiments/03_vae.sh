#!/usr/bin/env bash
# Experiment 3 (the log's fix): the encoder outputs mu and logvar, with a KL term of weight 1 (as in the log),
# on swords (120 epochs) and on planes (25). Reconstructions are much worse than the AE's (the open problem),
# samples from z ~ N(0, I). An AE on swords is trained here as the swords baseline (reused by 6 and 7).
source "$(dirname "$0")/lib.sh"
init 03_vae "VAE with KL weight 1 (the log's settings)"

ES=$(epochs 120)
EP=$(epochs 25)
EVP=$(epochs ${VAE_PLANES_EPOCHS:-25})   # the planes VAE may be given fewer epochs when time is short
train "$OUT/ae_swords" "$ES" --data "$SWORDS" --model ae --preset cpu --init atlasnet
train "$OUT/vae_swords" "$ES" --data "$SWORDS" --model vae --preset cpu --init atlasnet --kl-weight 1 --kl-warmup 0 --logvar-init 0
train "$RESULTS/01_ae_planes/ae" "$EP" --data "$PLANES" --model ae --preset cpu --init atlasnet
train "$OUT/vae_planes" "$EVP" --data "$PLANES" --model vae --preset cpu --init atlasnet --kl-weight 1 --kl-warmup 0 --logvar-init 0

table "Reconstruction (test split) and samples z ~ N(0, I)" "| data | model | epochs | train s | chamfer x1e3 | F-score | active dims | samples MMD x1e3 | COV % | 1-NNA % |"
for set in swords planes; do
    if [ $set = swords ]; then SRC=$SWORDS AE=$OUT/ae_swords; else SRC=$PLANES AE=$RESULTS/01_ae_planes/ae; fi
    N=$(gen_count "$SRC")
    for m in ae vae; do
        [ $m = ae ] && D=$AE || D=$OUT/vae_$set
        eval_recon "$D/model.ckpt" "$SRC"
        sample "$D/model.ckpt" "$OUT/samples_${m}_$set" "$N" --seed 1
        eval_gen "$OUT/samples_${m}_$set" "$SRC"
        act=$([ $m = vae ] && active_dims "$D" || echo "-")
        row "| $set | ${m^^}$([ $m = vae ] && echo ', KL weight 1') | $(awk -F, 'END { print $1 }' "$D/log.csv") | $(train_seconds "$D") | $CD | $FS | $act | $MMD | $COV | $NNA |"
    done
    reconstruct "$OUT/vae_$set/model.ckpt" "$SRC" "$OUT/recon_vae_$set" "$(count 16)"
    picture "$OUT/recon_vae_$set/pairs8.png" "VAE (KL weight 1) reconstructions of test $set (input grey-blue, VAE orange)"
    reconstruct "$AE/model.ckpt" "$SRC" "$OUT/recon_ae_$set" "$(count 16)"
    picture "$OUT/recon_ae_$set/pairs8.png" "AE reconstructions of the same test $set"
    picture "$OUT/samples_vae_$set/first16.png" "VAE samples, z ~ N(0, I), $set"
    picture "$OUT/samples_ae_$set/first16.png" "AE decoder with z ~ N(0, I), $set (the failure of experiment 2)"
    curves "$OUT/vae_$set" "$OUT/curves_vae_$set.png" loss,chamfer,kld
done
note "Active dims: latent dimensions whose posterior mean varies over the test shapes (variance > 0.01); 0 means posterior collapse: the decoder ignores z. The KL is summed over 256 dimensions while the Chamfer is a per-point mean of order 1e-2..1e-3, so with weight 1 the KL dominates the loss."
finish
