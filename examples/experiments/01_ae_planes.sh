#!/usr/bin/env bash
# Experiment 1 (the research log's start): AtlasNet as a plain autoencoder on 1000 planes, and its
# reconstructions of test shapes. The model (results/01_ae_planes/ae) is reused by experiments 2 and 7.
source "$(dirname "$0")/lib.sh"
init 01_ae_planes "AtlasNet autoencoder on planes"

E=$(epochs 25)
train "$OUT/ae" "$E" --data "$PLANES" --model ae --preset cpu --init atlasnet
eval_recon "$OUT/ae/model.ckpt" "$PLANES"
reconstruct "$OUT/ae/model.ckpt" "$PLANES" "$OUT/recon" "$(count 16)"
picture "$OUT/recon/pairs8.png" "8 test planes (grey-blue) and their AE reconstructions (orange); all 16 in recon/reconstructions.png"
curves "$OUT/ae" "$OUT/curves.png"

note "AtlasNet AE (cpu preset: 1024 points, 8 square patches, latent 256, encoder 64-128-512, decoder 256-128-64-3, batch 16, Adam 1e-3 divided by 10 at 4/5 of the epochs)."
table "AE reconstruction on planes (test split)" "| model | data | epochs | train s | chamfer x1e3 | F-score |"
row "| AE | \`$PLANES\` | $E | $(train_seconds "$OUT/ae") | $CD | $FS |"
finish
