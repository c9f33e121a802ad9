#!/usr/bin/env bash
# Experiment 10: `mache train --model vae` with no other flags. Defaults: KL weight 5e-6, warm-up 5 epochs,
# logvar init -4, template init. Against the AE with the same defaults (same epochs, seed): Chamfer ratio
# (target: within 1.2x) and active latent dimensions (target: all). A small sweep around the default KL
# weight shows where it sits. The log's settings (KL weight 1, no warm-up, logvar init 0) are experiment 3.
# SEEDS10="1 2 3": the logvar inits of LV10 (default "-6 -4 -3 -2") over those seeds, on 400 planes and 400 swords
# (25 epochs) and 100 swords (120 and 25 epochs), each against the AE of the same seed (log.csv's test Chamfer).
source "$(dirname "$0")/lib.sh"
init 10_default_vae "the default VAE against the AE"

PLANES10=${PLANES10:-$([ "$QUICK" = 1 ] && echo "$PLANES" || echo procedural:plane:400)}
PLANES=$PLANES10    # for the header of results.md
SETS10=${SETS10-swords planes}
SWEEP10=${SWEEP10:-3e-6 1e-5 3e-5}        # KL weights besides the default, on swords at the default epochs
SWEEP10_PLANES=${SWEEP10_PLANES:-3e-6 1e-5}  # ... on planes
SWEEP10_LONG=${SWEEP10_LONG:-3e-6 1e-5}      # ... on swords at the long schedule (with LONG10)
QUICK_EPOCHS=(); [ "$QUICK" = 1 ] && QUICK_EPOCHS=(--epochs 1)   # a smoke test only
LONG10=${LONG10:-}                    # e.g. 120: swords also at the long schedule of experiments 3 and 9
SEEDS10=${SEEDS10:-}                  # e.g. "1 2 3": the logvar-init table over seeds
LV10=${LV10:--6 -4 -3 -2}

# last_cd DIR / ratio A B : log.csv's last test Chamfer x1e3; A / B to 2 decimals
last_cd() { awk -F, 'END { print $7 }' "$1/log.csv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# min_kl DIR : the smallest KL (nats, last epoch, training shapes) of any latent dimension: ~0 for a collapsed one
min_kl() { awk -F, 'END { m = $2; for (i = 3; i <= NF; i++) if ($i < m) m = $i; printf "%.2f", m }' "$1/kl_dims.csv"; }

# train_defaults DIR ARGS... : mache train ARGS --out DIR, nothing else (lib.sh's train sets epochs and the
# LR step); reuses a finished run in DIR (09's planes AE is this very run: copy it here to save its time)
train_defaults() {
    local dir=$1
    shift
    if [ -f "$dir/model.ckpt" ] && grep -q '^trained' "$dir/train.log" 2>/dev/null; then
        echo "  reusing $dir"
        echo "# reused $dir, trained earlier by: $(cat "$dir/command.txt" 2>/dev/null || echo '?')" >> "$OUT/.commands"
        return 0
    fi
    mkdir -p "$dir"
    echo "mache train $* --out $dir" > "$dir/command.txt"
    run $LINEBUF "$MACHE" train "$@" --out "$dir" "${QUICK_EPOCHS[@]}" > "$dir/train.log" 2>&1 || { tail -5 "$dir/train.log" >&2; exit 1; }
}

table "Default VAE vs AE (test split; cpu preset, default epochs unless said)" \
      "| data | model | epochs | train s | chamfer x1e3 | F-score | ratio to the AE | active dims | KL (nats, last epoch) |"
for set in $SETS10; do
    if [ $set = swords ]; then SRC=$SWORDS; else SRC=$PLANES10; fi
    # no flags but data and output: every default, epochs included
    for m in ae vae; do train_defaults "$OUT/${m}_$set" --data "$SRC" --model $m; done
    eval_recon "$OUT/ae_$set/model.ckpt" "$SRC"; AE_CD=$CD
    row "| $set | AE (defaults) | $(awk -F, 'END { print $1 }' "$OUT/ae_$set/log.csv") | $(train_seconds "$OUT/ae_$set") | $CD | $FS | 1.00 | - | - |"
    eval_recon "$OUT/vae_$set/model.ckpt" "$SRC"
    row "| $set | **VAE (defaults: KL weight 5e-6, warm-up 5, logvar init -4)** | $(awk -F, 'END { print $1 }' "$OUT/vae_$set/log.csv") | $(train_seconds "$OUT/vae_$set") | $CD | $FS | $(ratio "$CD" "$AE_CD") | $(active_dims "$OUT/vae_$set") | $(awk -F, 'END { print $6 }' "$OUT/vae_$set/log.csv") |"
    if [ $set = swords ]; then SWEEP=$SWEEP10; else SWEEP=$SWEEP10_PLANES; fi
    for w in $SWEEP; do
        D=$OUT/vae_kl${w}_$set
        train_defaults "$D" --data "$SRC" --model vae --kl-weight "$w"
        eval_recon "$D/model.ckpt" "$SRC"
        row "| $set | VAE, --kl-weight $w (other defaults) | $(awk -F, 'END { print $1 }' "$D/log.csv") | $(train_seconds "$D") | $CD | $FS | $(ratio "$CD" "$AE_CD") | $(active_dims "$D") | $(awk -F, 'END { print $6 }' "$D/log.csv") |"
    done
    if [ $set = swords ] && [ -n "$LONG10" ]; then
        # the long schedule: lr step at 4/5 as in experiments 3 and 9
        EL=$(epochs "$LONG10")
        train "$OUT/ae_${set}_long" "$EL" --data "$SRC" --model ae
        train "$OUT/vae_${set}_long" "$EL" --data "$SRC" --model vae
        eval_recon "$OUT/ae_${set}_long/model.ckpt" "$SRC"; AE_CD=$CD
        row "| $set | AE (defaults but epochs) | $EL | $(train_seconds "$OUT/ae_${set}_long") | $CD | $FS | 1.00 | - | - |"
        eval_recon "$OUT/vae_${set}_long/model.ckpt" "$SRC"
        row "| $set | **VAE (defaults but epochs)** | $EL | $(train_seconds "$OUT/vae_${set}_long") | $CD | $FS | $(ratio "$CD" "$AE_CD") | $(active_dims "$OUT/vae_${set}_long") | $(awk -F, 'END { print $6 }' "$OUT/vae_${set}_long/log.csv") |"
        for w in $SWEEP10_LONG; do
            D=$OUT/vae_kl${w}_${set}_long
            train "$D" "$EL" --data "$SRC" --model vae --kl-weight "$w"
            eval_recon "$D/model.ckpt" "$SRC"
            row "| $set | VAE, --kl-weight $w (defaults but epochs) | $EL | $(train_seconds "$D") | $CD | $FS | $(ratio "$CD" "$AE_CD") | $(active_dims "$D") | $(awk -F, 'END { print $6 }' "$D/log.csv") |"
        done
    fi
done
if [ -n "$SEEDS10" ]; then
    head="| data, epochs | seed | AE |"
    for lv in $LV10; do head+=" VAE, --logvar-init $lv: chamfer (ratio), active dims, min KL |"; done
    table "The logvar init over seeds (test Chamfer x1e3 of the last epoch; other flags the defaults)" "$head"
    for spec in procedural:plane:400:25 procedural:sword:400:25 procedural:sword:100:120 procedural:sword:100:25; do
        SRC=${spec%:*}; EL=$(epochs "${spec##*:}"); TAG=$(echo "$SRC" | cut -d: -f2,3 | tr : _)_e$EL
        for seed in $SEEDS10; do
            train "$OUT/seeds/ae_${TAG}_s$seed" "$EL" --data "$SRC" --model ae --seed "$seed" --prior none --quiet
            AE_CD=$(last_cd "$OUT/seeds/ae_${TAG}_s$seed")
            line="| ${SRC#procedural:}, $EL | $seed | $AE_CD |"
            for lv in $LV10; do
                D=$OUT/seeds/vae_lv${lv}_${TAG}_s$seed
                train "$D" "$EL" --data "$SRC" --model vae --seed "$seed" --logvar-init "$lv" --prior none --quiet
                line+=" $(last_cd "$D") ($(ratio "$(last_cd "$D")" "$AE_CD")), $(active_dims "$D"), $(min_kl "$D") |"
            done
            row "$line"
        done
    done
fi
note "Why 5e-6: the loss is chamfer + w * KL. The Chamfer is a per-point mean, ~1e-3 late in training; the KL is summed over the 256 latent dimensions and, with every dimension in use, settles at a few hundred nats (the KL column: 1-2.5 nats per dimension). With w = 1 the KL term is ~1e5 times the Chamfer and the cheapest way down is to give up the latent: every dimension collapses (experiment 3). w ~ 1e-3 / 500 = 2e-6 puts the two terms level. The sweep brackets the choice: 3e-6 reconstructs best but leaves a planes dimension unused (variance of mu below 0.01, its posterior narrow but constant); 1e-5 keeps every dimension but drifts to 1.44x the AE on swords over 120 epochs (the template-init AE keeps improving, the KL keeps squeezing); 3e-5 is past 1.2x already at 25 epochs. 5e-6 is the weight that held both targets on both classes and schedules (one seed each, measured at logvar init -6, the default then; its 1.19x at 120 epochs was close to the line). Over three seeds (SEEDS10 below) init -6 misses the 1.2x line on three runs of twelve; -4, the default now, keeps every run within it."
note "Active dims: latent dimensions whose posterior mean varies over the test shapes (variance > 0.01), out of 256."
note "Min KL (the seed table): the smallest KL of any one latent dimension, in nats, on the training shapes at the last epoch. A dimension collapsed to the prior has a KL near 0; one counted inactive above but with a KL like the others' has a narrow posterior around a nearly constant mean, little used rather than collapsed."
finish
