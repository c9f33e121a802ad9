#!/usr/bin/env bash
# Experiment 2 (the log's first failure): random latent vectors z ~ N(0, I) fed to the AE decoder of
# experiment 1 give garbage. Pictures, and generation metrics (MMD, COV, 1-NNA) against the test planes,
# beside two references: the AE's reconstructions of training planes, and the training planes themselves
# (what a perfect generator would score).
source "$(dirname "$0")/lib.sh"
init 02_ae_random_latents "random latents into the AE decoder"

AE=$RESULTS/01_ae_planes/ae
train "$AE" "$(epochs 25)" --data "$PLANES" --model ae --preset cpu --init atlasnet
N=$(gen_count "$PLANES")

sample "$AE/model.ckpt" "$OUT/samples_normal" "$N" --seed 1
picture "$OUT/samples_normal/first16.png" "the first 16 of $N samples of the AE decoder with z ~ N(0, I)"
eval_gen "$OUT/samples_normal" "$PLANES"
S_MMD=$MMD S_COV=$COV S_NNA=$NNA

reconstruct "$AE/model.ckpt" "$PLANES" "$OUT/recon_train" "$N" --split train
only "$OUT/recon_train" '*_recon.obj' "$OUT/recon_only"
only "$OUT/recon_train" '*_input.obj' "$OUT/train_only"
sheet "$OUT/recon_sheet.png" "$OUT"/recon_only/*.obj
picture "$OUT/recon_sheet.png" "AE reconstructions of the first 16 of those training planes (for comparison with the samples)"
eval_gen "$OUT/recon_only" "$PLANES"
R_MMD=$MMD R_COV=$COV R_NNA=$NNA
eval_gen "$OUT/train_only" "$PLANES"

note "The AE's latent codes come out of a ReLU (non-negative) and are not shaped like N(0, I), so decoding z ~ N(0, I) lands far from every training code. $N shapes are generated and compared with $N test planes."
note "Reading the table: MMD (how close the generated set comes to each real shape) and the pictures show the garbage plainly. 1-NNA needs care here: decoded meshes are told apart from real ones even when they are faithful reconstructions (the reconstructions row), because a 25-epoch AE's reconstruction error is of the order of the distance between two planes and its patch surfaces are smoother and more alike than the real meshes; a cloud of scattered fragments, meanwhile, sometimes has a real plane as its nearest neighbour."
table "Generation metrics against $N test planes" "| generated set | MMD-CD x1e3 | COV-CD % | 1-NNA-CD % |"
row "| AE decoder, z ~ N(0, I) | $S_MMD | $S_COV | $S_NNA |"
row "| AE reconstructions of $N training planes | $R_MMD | $R_COV | $R_NNA |"
row "| $N training planes themselves | $MMD | $COV | $NNA |"
finish
