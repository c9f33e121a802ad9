#!/usr/bin/env bash
# Experiment 6 (the log's transfer learning): pretrain an AE on all built-in classes, fine-tune it for 120
# epochs on the 100 swords (--init-from), and compare with the same AE trained from scratch on the swords
# for the same epochs (experiment 3's sword AE).
#
# PRETRAIN defaults to procedural:all:200:1: seed 1, because procedural:all:200 (seed 0) holds sword:0..199
# of the same seed as procedural:sword:100, so its training split would contain our sword test shapes.
source "$(dirname "$0")/lib.sh"
init 06_transfer "transfer learning: multi-class AE pretraining, fine-tuning on swords"

if [ "$QUICK" = 1 ]; then PRETRAIN=${PRETRAIN:-procedural:all:10:1}; else PRETRAIN=${PRETRAIN:-procedural:all:200:1}; fi
EPRE=$(epochs ${PRETRAIN_EPOCHS:-10})
ES=$(epochs 120)
train "$OUT/pretrain" "$EPRE" --data "$PRETRAIN" --model ae --preset cpu --init atlasnet
train "$OUT/finetune" "$ES" --data "$SWORDS" --model ae --preset cpu --init atlasnet --init-from "$OUT/pretrain/model.ckpt"
SCRATCH=$RESULTS/03_vae/ae_swords
train "$SCRATCH" "$ES" --data "$SWORDS" --model ae --preset cpu --init atlasnet

table "Swords test split" "| model | epochs on swords | train s | chamfer x1e3 | F-score |"
eval_recon "$OUT/pretrain/model.ckpt" "$PRETRAIN"
PRE_ALL="$CD / $FS"
eval_recon "$OUT/pretrain/model.ckpt" "$SWORDS"
row "| pretrained on \`$PRETRAIN\` ($EPRE epochs), no fine-tuning | 0 | $(train_seconds "$OUT/pretrain") | $CD | $FS |"
eval_recon "$OUT/finetune/model.ckpt" "$SWORDS"
row "| pretrained, then fine-tuned | $ES | $(train_seconds "$OUT/finetune") | $CD | $FS |"
eval_recon "$SCRATCH/model.ckpt" "$SWORDS"
row "| from scratch | $ES | $(train_seconds "$SCRATCH") | $CD | $FS |"
note "The pretrained AE on its own test split (all classes): chamfer x1e3 / F-score = $PRE_ALL."

# test chamfer per epoch of both runs on one plot
awk -F, 'NR == FNR { if (FNR > 1) s[$1] = $7; next } FNR == 1 { print "epoch,scratch_test_chamfer_x1e3,finetune_test_chamfer_x1e3"; next } { print $1 "," s[$1] "," $7 }' \
    "$SCRATCH/log.csv" "$OUT/finetune/log.csv" > "$OUT/compare.csv"
run "$MACHE" plot "$OUT/compare.csv" --out "$OUT/curves_compare.png" --logy --title "swords: test chamfer x1e3, from scratch vs fine-tuned" > /dev/null
picture "$OUT/curves_compare.png" "test chamfer x1e3 per epoch, from scratch vs pretrained + fine-tuned"
curves "$OUT/pretrain" "$OUT/curves_pretrain.png"
reconstruct "$OUT/finetune/model.ckpt" "$SWORDS" "$OUT/recon_finetune" 8
picture "$OUT/recon_finetune/pairs8.png" "fine-tuned AE: reconstructions of 8 test swords"
reconstruct "$SCRATCH/model.ckpt" "$SWORDS" "$OUT/recon_scratch" 8
picture "$OUT/recon_scratch/pairs8.png" "AE from scratch: reconstructions of the same 8 test swords"
reconstruct "$OUT/pretrain/model.ckpt" "$PRETRAIN" "$OUT/recon_pretrain" 16
picture "$OUT/recon_pretrain/pairs8.png" "pretrained AE: reconstructions of 16 test shapes of its own data"
finish
