#!/bin/sh
# `make install` into a fresh folder, then examples/train_vae.c built against the installed headers and
# library alone (pkg-config), run for one epoch of the tiny preset, and its mesh read back.
#   sh tests/test_install.sh BUILD     (make test runs it; MAKE, SANITIZE, OPENMP, CC come from make)
build=${1:-build}
MAKE=${MAKE:-make}
passed=0; failed=0
check() { if [ "$1" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL test_install: $2"; fi; }
prefix=$(mktemp -d /tmp/mache_install_XXXXXX)
trap 'rm -rf "$prefix"' EXIT

$MAKE -s install PREFIX="$prefix" SANITIZE="${SANITIZE:-0}" OPENMP="${OPENMP:-1}" CC="${CC:-cc}" > "$prefix/install.log" 2>&1
check $? "make install PREFIX=$prefix: $(tail -3 "$prefix/install.log")"
for f in lib/libmache.a lib/libmache_pictures.a lib/pkgconfig/mache.pc include/mache/mache.h include/mache/models/train.h bin/mache; do
    [ -e "$prefix/$f" ]; check $? "installed $f"
done

# Outside the source tree, so that nothing but the installed headers can be found.
cp examples/train_vae.c "$prefix/train_vae.c"
flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs mache)
check $? "pkg-config --cflags --libs mache"
(cd "$prefix" && ${CC:-cc} -std=c11 -Wall -Wextra -Werror train_vae.c $flags -o train_vae) > "$prefix/cc.log" 2>&1
check $? "cc train_vae.c \$(pkg-config --cflags --libs mache): $(head -5 "$prefix/cc.log")"
OMP_NUM_THREADS=1 "$prefix/train_vae" "$prefix/sword.obj" 1 tiny > "$prefix/run.log" 2>&1
check $? "train_vae ran: $(tail -3 "$prefix/run.log")"
grep -q "^epoch 1  loss" "$prefix/run.log"; check $? "train_vae printed its epoch"
"$build/mache" mesh-info "$prefix/sword.obj" > "$prefix/info.log" 2>&1
check $? "the mesh train_vae wrote loads: $(cat "$prefix/info.log")"
"$prefix/train_vae" "$prefix/x.obj" 0 > /dev/null 2>&1
[ $? = 1 ]; check $? "train_vae with 0 epochs exits 1"

echo "test_install: $passed passed, $failed failed"
[ "$failed" = 0 ]
