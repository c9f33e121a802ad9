#!/usr/bin/env bash
# Experiment 8: which sampler gives novel shapes like the class, under PointFlow's protocol (Yang et al.
# 2019): GEN_POINTS8 points per cloud (2048), as many generated as reference shapes (REF_N8, 400), the
# reference set unseen (procedural:CLASS:REF_N8:REF_SEED8, a seed the training data does not use, all of
# it), both sampled from meshes and normalised to the unit ball the same way (mache eval --generated).
# Samplers, on planes and swords, seeds SEEDS8 (1 2 3):
#   VAE z ~ N(0, I); AE + GMM and VAE + GMM (10 components on the training latents); the learned flow prior
#   (models/prior.h; mache train fits it, mache fit-prior adds it to a model trained without) on AE and VAE.
# Oracle rows: the real training shapes against the reference set, and the AE's and VAE's reconstructions
# of the reference shapes. Memorisation (MEM8=1, seed ORACLE_SEED8 = 1): each sample's Chamfer to its nearest training
# shape beside the reference shapes' (mache eval --train).
# Models: COUNT8 (400) shapes per class, E8 (25) epochs, cpu preset, mache train's defaults: the template
# init and the default VAE (KL weight 5e-6, warm-up 5, logvar init -4; VAE8 to pass others, INIT8=atlasnet
# for AtlasNet's init). TRAIN8="ae" trains only the AEs that are missing (the VAE samplers of a seed
# without a VAE run are then left out of the tables).
source "$(dirname "$0")/lib.sh"
init 08_samplers "samplers under the standard generation protocol: N(0, I), GMM, learned flow prior"

SEEDS8=${SEEDS8:-1 2 3}
CLASSES8=${CLASSES8:-plane sword}
COUNT8=${COUNT8:-$( [ "$QUICK" = 1 ] && echo 20 || echo 400 )}
E8=${E8:-$(epochs 25)}
REF_N8=${REF_N8:-$( [ "$QUICK" = 1 ] && echo 8 || echo 400 )}
REF_SEED8=${REF_SEED8:-77}
GEN_POINTS8=${GEN_POINTS8:-$( [ "$QUICK" = 1 ] && echo 256 || echo 2048 )}
MEM8=${MEM8:-1}
ORACLE_SEED8=${ORACLE_SEED8:-1}     # the seed whose models give the oracle rows and the memorisation check
TRAIN8=${TRAIN8:-ae vae}            # the models to train when missing (a VAE's samplers are skipped without one)
VAEFLOW8=${VAEFLOW8:-$SEEDS8}       # the seeds that also get the row "VAE + flow prior"
read -r -a VAE8 <<< "${VAE8:-}"
INIT8=${INIT8:-template}
RUNS=${RUNS8:-$RESULTS/08_samplers}
TSV=$OUT/metrics.tsv
: > "$TSV"

# ensure_prior CKPT SRC : fit the flow prior into CKPT if it has none (a run trained with --prior none or
# by an older mache)
ensure_prior() {
    local info
    info=$("$MACHE" info "$1")     # not piped into grep -q: with pipefail, info's SIGPIPE would read as "no prior"
    if ! grep -q '^ *prior=flow' <<< "$info"; then
        run "$MACHE" fit-prior --ckpt "$1" --data "$2" --quiet | tail -1
    fi
}

# gen CLASS SEED SAMPLER DIR [EXTRA] : evaluate the meshes in DIR (DIR.eval keeps the output; an existing one
# from the same protocol is reused, so the script can be rerun or run seed by seed), add a line to the TSV
gen() {
    local cls=$1 seed=$2 name=$3 dir=$4 extra=${5:-} line
    local ref="procedural:$cls:$REF_N8:$REF_SEED8" proto="points=$GEN_POINTS8 ref=$REF_N8:$REF_SEED8 $extra"
    if [ -s "$dir.eval" ] && [ "$(head -1 "$dir.eval")" = "$proto" ]; then
        line=$(tail -1 "$dir.eval")
        echo "# reused $dir.eval" >> "$OUT/.commands"
    else
        { echo "$proto"; run "$MACHE" eval --generated "$dir" --reference "$ref" --split all --points "$GEN_POINTS8" $extra; } > "$dir.eval.tmp"
        mv "$dir.eval.tmp" "$dir.eval"
        line=$(tail -1 "$dir.eval")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cls" "$name" "$seed" "$(metric "$line" mmd_cd_x1e3)" "$(metric "$line" cov_cd)" \
        "$(metric "$line" nna_cd)" "$(metric "$line" nna_gen)" "$(metric "$line" nna_ref)" \
        "$(metric "$line" mem_gen_x1e3)/$(metric "$line" mem_ref_x1e3)/$(metric "$line" copies)" >> "$TSV"
    echo "  $cls seed $seed $name: $line"
}

# sampler CLASS SEED NAME DIR CKPT EXTRA SAMPLE_ARGS... : REF_N8 samples (unless DIR.eval is reused), evaluated
sampler() {
    local cls=$1 seed=$2 name=$3 dir=$4 ckpt=$5 extra=$6
    shift 6
    local proto="points=$GEN_POINTS8 ref=$REF_N8:$REF_SEED8 $extra"
    if ! { [ -s "$dir.eval" ] && [ "$(head -1 "$dir.eval")" = "$proto" ] && [ -d "$dir" ]; }; then
        sample "$ckpt" "$dir" "$REF_N8" --seed "$seed" "$@"
    fi
    gen "$cls" "$seed" "$name" "$dir" "$extra"
}

for seed in $SEEDS8; do
    for cls in $CLASSES8; do
        SRC=procedural:$cls:$COUNT8
        AE=$RUNS/${cls}s_ae_s$seed VAE=$RUNS/${cls}s_vae_s$seed
        case " $TRAIN8 " in *" ae "*) train "$AE" "$E8" --data "$SRC" --model ae --preset cpu --init "$INIT8" --seed "$seed" --quiet ;; esac
        case " $TRAIN8 " in *" vae "*) train "$VAE" "$E8" --data "$SRC" --model vae --preset cpu --init "$INIT8" --seed "$seed" ${VAE8[@]+"${VAE8[@]}"} --quiet ;; esac
        models=()
        for m in AE VAE; do
            if [ -f "${!m}/model.ckpt" ]; then models+=("$m"); ensure_prior "${!m}/model.ckpt" "$SRC"; fi
        done
        has() { case " ${models[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
        S=$OUT/${cls}_s$seed
        mkdir -p "$S"
        mem=""
        [ "$MEM8" = 1 ] && [ "$seed" = "$ORACLE_SEED8" ] && mem="--train $SRC"
        if has VAE; then
            sampler "$cls" "$seed" "VAE, z ~ N(0, I)" "$S/vae_normal" "$VAE/model.ckpt" "" --prior normal
        fi
        if has AE; then
            sampler "$cls" "$seed" "AE + GMM" "$S/ae_gmm" "$AE/model.ckpt" "$mem" --prior gmm --fit "$SRC"
        fi
        if has VAE; then
            sampler "$cls" "$seed" "VAE + GMM" "$S/vae_gmm" "$VAE/model.ckpt" "" --prior gmm --fit "$SRC"
        fi
        if has AE; then
            sampler "$cls" "$seed" "AE + flow prior" "$S/ae_flow" "$AE/model.ckpt" "$mem" --prior flow
            picture "$S/ae_flow/first16.png" "$cls, seed $seed: AE + flow prior"
            picture "$S/ae_gmm/first16.png" "$cls, seed $seed: AE + GMM"
        fi
        if has VAE && case " $VAEFLOW8 " in *" $seed "*) true ;; *) false ;; esac; then
            sampler "$cls" "$seed" "VAE + flow prior" "$S/vae_flow" "$VAE/model.ckpt" "$mem" --prior flow
        fi
        if [ "$seed" = "$ORACLE_SEED8" ]; then
            # oracles: reconstructions of the reference shapes, and the real training shapes
            for m in "${models[@]}"; do
                ck=${!m}/model.ckpt lower=$(echo $m | tr A-Z a-z)
                [ -d "$S/recon_$lower" ] || run "$MACHE" reconstruct --ckpt "$ck" --data "procedural:$cls:$REF_N8:$REF_SEED8" --split all --count "$REF_N8" \
                    --out "$S/recon_$lower" --resolution 2500 > "$S/recon_$lower.log"
                only "$S/recon_$lower" '*_recon.obj' "$S/recon_${lower}_only"
                gen "$cls" "$seed" "oracle: $m reconstructions of the reference shapes" "$S/recon_${lower}_only"
            done
            [ -d "$S/data" ] || run "$MACHE" data --category "$cls" --count "$COUNT8" --out "$S/data" > /dev/null
            # the training split is the first 80% by index (the files sort by index); awk, not head, reads
            # all of its input, so pipefail never sees sort killed by SIGPIPE
            rm -rf "$S/train_only"; mkdir -p "$S/train_only"
            ls "$S/data"/*.obj | sort | awk -v n=$(( COUNT8 * 4 / 5 )) 'NR <= n' | while read -r f; do ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$S/train_only/"; done
            gen "$cls" "$seed" "oracle: real training shapes" "$S/train_only"
        fi
    done
done

# tables: mean and spread (sample standard deviation over seeds; one seed: the value alone)
summary() {
    awk -F'\t' -v cls="$1" '
        $1 == cls { k = $2; if (!(k in n)) order[++m] = k; n[k]++
                    for (c = 4; c <= 8; c++) { s[k, c] += $c; q[k, c] += $c * $c } seeds[k] = seeds[k] (seeds[k] == "" ? "" : " ") $3 }
        END { for (i = 1; i <= m; i++) { k = order[i]; line = "| " k " | " seeds[k]
                  for (c = 4; c <= 8; c++) { mu = s[k, c] / n[k]; v = n[k] > 1 ? (q[k, c] - n[k] * mu * mu) / (n[k] - 1) : 0
                      line = line sprintf(n[k] > 1 ? " | %.2f +- %.2f" : " | %.2f", mu, sqrt(v > 0 ? v : 0)) }
                  print line " |" } }' "$TSV"
}
for cls in $CLASSES8; do
    table "$cls: $REF_N8 generated vs $REF_N8 unseen reference shapes (procedural:$cls:$REF_N8:$REF_SEED8), $GEN_POINTS8 points; mean +- std over seeds" \
        "| sampler | seeds | MMD-CD x1e3 | COV-CD % | 1-NNA-CD % | 1-NNA generated side % | 1-NNA reference side % |"
    summary "$cls" >> "$OUT/.tables"
    table "$cls: memorisation (seed $ORACLE_SEED8): median Chamfer x1e3 to the nearest training shape" \
        "| sampler | samples | reference shapes | samples nearer a training shape than every reference shape |"
    awk -F'\t' -v cls="$cls" '$1 == cls && $9 !~ /^\/\// { split($9, a, "/"); printf "| %s | %s | %s | %s |\n", $2, a[1], a[2], a[3] }' "$TSV" >> "$OUT/.tables"
done
note "Protocol: $REF_N8 generated vs $REF_N8 reference shapes (procedural:CLASS:$REF_N8:$REF_SEED8, all of it: a seed the training data, procedural:CLASS:$COUNT8, does not use), $GEN_POINTS8 points per cloud sampled uniformly on the meshes (generated meshes at 2500 vertices), each cloud normalised to the unit ball from its own points; 1-NNA with its two halves. Models: cpu preset, $E8 epochs, $COUNT8 shapes per class (80/20 split); decoder init $INIT8; VAE ${VAE8[*]:-with the defaults of mache train (KL weight 5e-6, warm-up 5, logvar init -4)}; flow prior as mache train fits it (8 affine couplings, early stopping on 10% held-out latents); GMM 10 components on the training latents (mu)."
note "Per-run figures (class, sampler, seed, MMD, COV, 1-NNA, its generated and reference halves, memorisation) are in metrics.tsv."
finish
