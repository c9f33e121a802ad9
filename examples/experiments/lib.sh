# Shared parts of the experiment scripts (bash; sourced, not run).
#
# Environment (all optional):
#   MACHE         the mache binary (default build/mache)
#   OUT           this experiment's results folder (default $RESULTS/NAME)
#   RESULTS       the folder of all results (default results/, or results/quick/ with QUICK=1)
#   PLANES        plane shapes (default procedural:plane:1000)
#   SWORDS        sword shapes (default procedural:sword:100)
#   ALL           the multi-class pretraining set (default procedural:all:200)
#   EPOCHS_SCALE  multiply every epoch count by this (default 1)
#   QUICK=1       tiny data, 1-2 epochs and few samples: a smoke test of the script
#   GEN_N         shapes generated for generation metrics, and reference shapes (default 100; see gen_ref)
#   GEN_POINTS    points per shape for generation metrics (default 512)
#   OMP_NUM_THREADS defaults to 1 (one core per run)
#
# Every model lives in a run folder; `train` reuses a folder whose train.log already ends with
# mache's `trained ...` line, so a script can be rerun (and later scripts reuse earlier models).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
MACHE=${MACHE:-build/mache}
QUICK=${QUICK:-0}
EPOCHS_SCALE=${EPOCHS_SCALE:-1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
if [ "$QUICK" = 1 ]; then
    RESULTS=${RESULTS:-results/quick}
    PLANES=${PLANES:-procedural:plane:40}
    SWORDS=${SWORDS:-procedural:sword:20}
    ALL=${ALL:-procedural:all:10}
    GEN_N=${GEN_N:-8}
else
    RESULTS=${RESULTS:-results}
    PLANES=${PLANES:-procedural:plane:1000}
    SWORDS=${SWORDS:-procedural:sword:100}
    ALL=${ALL:-procedural:all:200}
    GEN_N=${GEN_N:-100}
fi
# per-epoch lines reach train.log as they come (mache's stdout is block-buffered into a file)
LINEBUF=$(command -v stdbuf > /dev/null && echo "stdbuf -oL" || true)
GEN_POINTS=${GEN_POINTS:-512}
if [ ! -x "$MACHE" ]; then
    echo "no $MACHE: run make first (or set MACHE)" >&2
    exit 1
fi

# init NAME "title" : start the experiment NAME (results folder, command log, clock).
init() {
    NAME=$1
    TITLE=$2
    OUT=${OUT:-$RESULTS/$NAME}
    mkdir -p "$OUT"
    : > "$OUT/.commands"
    : > "$OUT/.tables"
    : > "$OUT/.notes"
    : > "$OUT/.pictures"
    T_START=$(date +%s)
    echo "== $NAME: $TITLE  (results in $OUT)"
}

# log the command line (with the binary shown as `mache`), then run it.
run() {
    local line="mache" a args=("$@")
    [ "$1" = stdbuf ] && args=("${@:3}")
    for a in "${args[@]:1}"; do line+=" $a"; done
    echo "$line" >> "$OUT/.commands"
    "$@"
}

# epochs N : N scaled by EPOCHS_SCALE (at least 1); 1-2 epochs with QUICK=1.
epochs() {
    if [ "$QUICK" = 1 ]; then
        [ "$1" -ge 100 ] && echo 2 || echo 1
    else
        awk -v n="$1" -v s="$EPOCHS_SCALE" 'BEGIN { e = int(n * s + 0.5); print (e < 1 ? 1 : e) }'
    fi
}

# lr_step E : the epoch of the tenfold learning-rate drop for an E-epoch run (the cpu preset's 20 of 25,
# the paper's 100 of 120: 4/5 of the way).
lr_step() { awk -v e="$1" 'BEGIN { s = int(e * 0.8 + 0.5); print (s < 1 ? 1 : s) }'; }

# count N : N, or a few with QUICK=1.
count() { [ "$QUICK" = 1 ] && echo $(( $1 < 8 ? $1 : 8 )) || echo "$1"; }

# train DIR EPOCHS ARGS... : train into DIR (train.log has the per-epoch lines) unless DIR already
# holds a finished run; the learning-rate step is at 4/5 of the epochs.
train() {
    local dir=$1 e=$2
    shift 2
    mkdir -p "$dir"
    if [ -f "$dir/model.ckpt" ] && grep -q '^trained' "$dir/train.log" 2>/dev/null; then
        echo "  reusing $dir ($(grep '^trained' "$dir/train.log" | tail -1))"
        echo "# reused $dir, trained earlier by: $(cat "$dir/command.txt" 2>/dev/null || echo '?')" >> "$OUT/.commands"
        return 0
    fi
    echo "  training $dir ($e epochs; progress in $dir/log.csv and $dir/train.log)"
    local t0=$(date +%s)
    echo "mache train $* --epochs $e --lr-steps $(lr_step "$e") --out $dir" > "$dir/command.txt"
    if ! run $LINEBUF "$MACHE" train "$@" --epochs "$e" --lr-steps "$(lr_step "$e")" --out "$dir" > "$dir/train.log" 2>&1; then
        tail -5 "$dir/train.log" >&2
        echo "training $dir failed" >&2
        return 1
    fi
    echo "  $(tail -1 "$dir/train.log") [$(( $(date +%s) - t0 )) s]"
}

# metric "LINE" KEY : the value of KEY=value in LINE.
metric() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | tail -1; }

# train_seconds DIR : the training time of a run (sum of log.csv's seconds column).
train_seconds() { awk -F, 'NR > 1 { s += $10 } END { printf "%.0f", s }' "$1/log.csv"; }

# active_dims DIR : the last epoch's active latent dimensions.
active_dims() { awk -F, 'END { print $9 }' "$1/log.csv"; }

# eval_recon CKPT SRC : sets CD (chamfer x1e3) and FS (F-score) on the test split.
eval_recon() {
    local line
    line=$(run "$MACHE" eval --ckpt "$1" --data "$2" | tail -1)
    CD=$(metric "$line" chamfer_x1e3)
    FS=$(metric "$line" fscore)
    echo "  eval $1 on $2: chamfer_x1e3=$CD fscore=$FS"
}

# gen_ref SRC : the reference set of generation metrics for shapes like SRC's. A procedural set whose test
# split is smaller than GEN_N is replaced by the same family with 5x the count: its test split (indices
# 4N..5N-1) has N shapes none of which SRC's training split (or SRC at all) holds.
gen_ref() {
    local cat n seed
    IFS=: read -r _ cat n seed <<< "$1"
    if [ "${1%%:*}" = procedural ] && [ $(( n - n * 4 / 5 )) -lt "$GEN_N" ]; then
        echo "procedural:$cat:$(( 5 * n ))${seed:+:$seed}"
    else
        echo "$1"
    fi
}

# gen_count SRC : how many shapes to generate for SRC: its reference set's test-split size, at most GEN_N.
gen_count() {
    local ref n
    ref=$(gen_ref "$1")
    n=$(echo "$ref" | awk -F: '$1 == "procedural" { print $3 }')
    if [ -n "$n" ]; then
        local t=$(( n - n * 4 / 5 ))
        echo $(( t < GEN_N ? t : GEN_N ))
    else
        echo "$GEN_N"
    fi
}

# eval_gen DIR SRC : sets MMD, COV, NNA of the meshes in DIR against gen_ref(SRC)'s test split (at most
# GEN_N shapes, GEN_POINTS points each).
eval_gen() {
    local dir=$1 ref line
    ref=$(gen_ref "$2")
    line=$(run "$MACHE" eval --generated "$dir" --reference "$ref" --max-reference "$GEN_N" --points "$GEN_POINTS" | tail -1)
    MMD=$(metric "$line" mmd_cd_x1e3)
    COV=$(metric "$line" cov_cd)
    NNA=$(metric "$line" nna_cd)
    echo "  generation metrics of $dir vs $ref: mmd_cd_x1e3=$MMD cov_cd=$COV nna_cd=$NNA"
}

# reconstruct CKPT SRC DIR [N [ARGS...]] : reconstructions (NNN_input.obj, NNN_recon.obj, reconstructions.png)
# of N test shapes (ARGS e.g. --split train).
reconstruct() {
    local ckpt=$1 src=$2 dir=$3 n=${4:-$(count 16)}
    shift 3; [ $# -gt 0 ] && shift
    rm -rf "$dir"
    run "$MACHE" reconstruct --ckpt "$ckpt" --data "$src" --out "$dir" --count "$n" --resolution 2500 "$@" > "$dir.log" 2>&1 \
        || { cat "$dir.log" >&2; return 1; }
    local f pairs=()
    for f in "$dir"/*_input.obj; do pairs+=("$f" "${f%_input.obj}_recon.obj"); done
    run "$MACHE" render "${pairs[@]:0:16}" --pairs --out "$dir/pairs8.png" --cols 8 --size 128 > /dev/null
}

# only DIR PATTERN NEWDIR : a folder of symbolic links to DIR's files matching PATTERN (e.g. '*_recon.obj'),
# for eval --generated.
only() {
    rm -rf "$3"; mkdir -p "$3"
    local f
    for f in "$1"/$2; do ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$3/"; done
}

# sample CKPT DIR N [ARGS...] : N sampled meshes (OBJ + samples.png).
sample() {
    local ckpt=$1 dir=$2 n=$3
    shift 3
    rm -rf "$dir"
    run "$MACHE" sample --ckpt "$ckpt" --count "$n" --out "$dir" --resolution 2500 "$@" > "$dir.log" 2>&1 \
        || { cat "$dir.log" >&2; return 1; }
    sheet "$dir/first16.png" "$dir"/sample_*.obj
}

# curves RUNDIR PNG [COLUMNS] : the training curves of a run.
curves() {
    run "$MACHE" plot "$1/log.csv" --out "$2" --y "${3:-chamfer,test_chamfer_x1e3}" --logy --title "$(basename "$1")" > /dev/null
    picture "$2" "training curves of $1"
}

# sheet PNG FILES... : a contact sheet (first 16 files) of meshes.
sheet() {
    local png=$1
    shift
    run "$MACHE" render "${@:1:16}" --out "$png" --cols 8 --size 128 > /dev/null
}

# picture PNG "caption" : list a picture in results.md.
picture() { echo "- \`$1\`: $2" >> "$OUT/.pictures"; }

# table "title" "| header | ... |" : start a markdown table; row "| a | b |" adds a row.
table() {
    local ncol
    ncol=$(echo "$2" | awk -F'|' '{ print NF - 2 }')
    printf '\n### %s\n\n%s\n|%s\n' "$1" "$2" "$(for _ in $(seq "$ncol"); do printf -- '---|'; done)" >> "$OUT/.tables"
}
row() { echo "$1" >> "$OUT/.tables"; }

# note "text" : a paragraph in results.md.
note() { printf '%s\n\n' "$1" >> "$OUT/.notes"; }

# finish : write OUT/results.md (notes, tables, pictures, commands, wall time).
finish() {
    local wall=$(( $(date +%s) - T_START ))
    {
        echo "# $NAME: $TITLE"
        echo
        echo "Data: planes \`$PLANES\`, swords \`$SWORDS\`; EPOCHS_SCALE=$EPOCHS_SCALE QUICK=$QUICK;" \
             "OMP_NUM_THREADS=$OMP_NUM_THREADS; $(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -m)."
        echo "Reconstruction: Chamfer x1e3 and F-score on the test split as \`mache eval\` computes them;"
        echo "generation metrics (eval --generated, $GEN_POINTS points per shape) against a reference set's test split (\`$(gen_ref "$PLANES")\` for planes, \`$(gen_ref "$SWORDS")\` for swords, at most $GEN_N shapes): MMD-CD x1e3 (lower is better),"
        echo "COV-CD % (higher is better), 1-NNA-CD % (50 is ideal, 100 means generated and real shapes are told apart perfectly)."
        echo "\"train s\" is the sum of the epoch times in the run's log.csv: it depends on the machine's load at the time (a shared machine here)."
        echo
        cat "$OUT/.notes"
        cat "$OUT/.tables"
        echo
        echo "### Pictures"
        echo
        cat "$OUT/.pictures"
        echo
        echo "### Commands"
        echo
        echo '```'
        cat "$OUT/.commands"
        echo '```'
        echo
        echo "Wall time of this script: ${wall} s (models reused from earlier runs not counted; their training times are in the tables)."
    } > "$OUT/results.md"
    echo "== $NAME done in ${wall} s: $OUT/results.md"
}
