# mache: build the library, the `mache` program, the tests and the benchmarks.
#   make            everything (OpenMP on where the compiler has it; OPENMP=0 turns it off)
#   make test       the whole suite; last line "N passed, M failed"
#   make test SANITIZE=1   the same suite with address and undefined-behaviour sanitizers
#   make MPI=1      a `mache` that trains data-parallel under mpirun, in build/mpi (needs mpicc)
#   make test-baseline     the same suite emulating a CPU without AVX (needs qemu-user)
#   make demo | bench | install PREFIX=...

CC      ?= cc
PREFIX  ?= /usr/local
OPENMP  ?= 1
SANITIZE ?= 0
MPI     ?= 0

CFLAGS  ?= -O3 -g
# What the code needs, kept apart from CFLAGS so `make CFLAGS=-O3` changes only the optimisation.
# -fno-math-errno: nothing reads errno after sqrtf or expf, and without it loops that call them
# cannot be vectorised (the results are the same: IEEE sqrt is exact in SIMD too).
MACHE_CFLAGS := -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -I. -fno-math-errno
LDLIBS  += -lm

# MPI=1: the same build with mpicc, which adds MPI's headers and libraries, and examples/mache/mpi.c,
# the one file that calls MPI; the library itself stays MPI-free.
ifeq ($(MPI),1)
  MPICC   ?= mpicc
  override CC := $(MPICC)
  MACHE_CFLAGS += -DMACHE_MPI
  BUILD   ?= build/mpi
endif

ifeq ($(SANITIZE),1)
  BUILD   ?= build/sanitize
  MACHE_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  BUILD   ?= build
endif

ifeq ($(OPENMP),1)
  HAVE_OMP := $(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1)
  ifeq ($(HAVE_OMP),1)
    MACHE_CFLAGS += -fopenmp
    LDFLAGS += -fopenmp
  endif
endif
ifneq ($(HAVE_OMP),1)
  MACHE_CFLAGS += -Wno-unknown-pragmas   # the `omp` pragmas are ignored on purpose: serial build
endif

# Layers, lowest first: nothing includes a header from a later folder. The core library is
# libmache.a; pictures/ (PNG, rasterizer, plots) is a layer of its own, libmache_pictures.a, which the
# core never links and the `mache` program adds.
LIB_DIRS := tensor autograd nn mesh procedural datasets models
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(sort $(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libmache.a
PIC_SRC  := $(sort $(wildcard pictures/*.c))
PIC_OBJ  := $(PIC_SRC:%.c=$(BUILD)/obj/%.o)
PIC_LIB  := $(BUILD)/libmache_pictures.a

CLI_SRC  := $(sort $(wildcard examples/mache/*.c))
ifneq ($(MPI),1)
  CLI_SRC := $(filter-out examples/mache/mpi.c,$(CLI_SRC))
endif
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
CLI      := $(BUILD)/mache

TEST_SRC := $(sort $(wildcard tests/test_*.c))
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/%)

# Example programs: one file each, on the core library alone (examples/train_vae.c, ...).
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES    := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/%)

# Programs the test scripts use: tests/ckpt_diff.c compares two checkpoints.
TOOLS    := $(BUILD)/ckpt_diff

all: $(LIB) $(PIC_LIB) $(CLI) $(TESTS) $(EXAMPLES) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MACHE_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
$(PIC_LIB): $(PIC_OBJ)
$(LIB) $(PIC_LIB):
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(CLI): $(CLI_OBJ) $(PIC_LIB) $(LIB)
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(PIC_LIB) $(LIB) $(LDLIBS) -o $@

$(BUILD)/test_%: $(BUILD)/obj/tests/test_%.o $(BUILD)/obj/tests/harness.o $(PIC_LIB) $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(TOOLS): $(BUILD)/%: $(BUILD)/obj/tests/%.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(EXAMPLES): $(BUILD)/%: $(BUILD)/obj/examples/%.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The suite: every test program, and tests/test_*.sh (which run `make install` and the examples).
TEST_SCRIPTS := $(sort $(wildcard tests/test_*.sh))
test: $(TESTS) $(CLI) $(EXAMPLES) $(TOOLS)
	@MAKE="$(MAKE)" SANITIZE=$(SANITIZE) OPENMP=$(OPENMP) CC="$(CC)" sh tests/run.sh $(BUILD) $(TESTS) $(TEST_SCRIPTS)

# The suite on an x86-64 without AVX (the portable GEMM and nearest-neighbour kernels, the baseline
# clones of the row kernels), emulated by qemu-user: apt-get install qemu-user.
test-baseline: $(TESTS) $(CLI) $(EXAMPLES)
	@command -v qemu-x86_64 >/dev/null || { echo "make test-baseline: needs qemu-x86_64 (apt-get install qemu-user)"; exit 1; }
	@TEST_RUNNER="qemu-x86_64 -cpu Nehalem" OMP_WAIT_POLICY=passive sh tests/run.sh $(BUILD) $(TESTS)

bench: $(CLI)
	@sh examples/bench/run.sh $(BUILD)

demo: $(CLI)
	@sh examples/demo.sh $(BUILD)

HEADERS := mache.h mache_pictures.h $(foreach d,$(LIB_DIRS) pictures,$(wildcard $(d)/*.h))
install: $(LIB) $(PIC_LIB) $(CLI)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libmache.a
	install -m 644 $(PIC_LIB) $(DESTDIR)$(PREFIX)/lib/libmache_pictures.a
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/mache
	for h in $(HEADERS); do install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/mache/$$h; done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(LDFLAGS) $(LDLIBS)|' mache.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mache.pc
	sed -e 's|@PREFIX@|$(PREFIX)|' mache-pictures.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mache-pictures.pc

# One libFuzzer target per file format (clang only), run one after another for FUZZ_TIME seconds each.
# New inputs go to build/fuzz/corpus/FORMAT; the seeds in tests/fuzz/corpus/FORMAT are only read.
# Each target links only the readers it tests: the IDX reader with its inflate, the mesh readers, or for
# the tensor files (zip, pickle, torch = .pth end to end, safetensors, ckpt) the layers up to nn.
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_mesh := tensor/tensor.c tensor/sys.c mesh/mesh.c mesh/obj.c mesh/off.c mesh/ply.c mesh/stl.c
FUZZ_LIB_idx  := tensor/tensor.c tensor/sys.c datasets/gzip.c datasets/idx.c
# The tensor-file targets share those layers' objects, compiled once. The matrix kernels are linked, not
# fuzzed: instrumenting their AVX-512 code takes clang many minutes.
FUZZ_TENSOR_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(foreach d,tensor autograd nn,$(sort $(wildcard $(d)/*.c))))
$(foreach t,zip pickle torch safetensors ckpt,$(eval FUZZ_LIB_$(t) := $(FUZZ_TENSOR_OBJ)))
FUZZ_OBJ_SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
$(patsubst %.c,build/fuzz/obj/%.o,$(wildcard tensor/gemm*.c)): FUZZ_OBJ_SAN =
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -I. $(FUZZ_OBJ_SAN) -Wno-unknown-pragmas -MMD -MP -c $< -o $@
fuzz_lib = $(if $(FUZZ_LIB_$(1)),$(FUZZ_LIB_$(1)),$(FUZZ_LIB_mesh))

.SECONDEXPANSION:
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_lib,$$*) $(wildcard tests/fuzz/*.h tensor/*.h nn/*.h mesh/*.h datasets/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -I. -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $< $(call fuzz_lib,$*) -lm -o $@

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do fmt=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus/$$fmt; \
		echo "== fuzzing $$fmt for $(FUZZ_TIME) s"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=65536 -rss_limit_mb=2048 -timeout=10 -dict=tests/fuzz/$$fmt.dict \
			-artifact_prefix=build/fuzz/$$fmt- build/fuzz/corpus/$$fmt tests/fuzz/corpus/$$fmt || exit 1; done

clean:
	rm -rf build

.PHONY: all test test-baseline bench demo install clean fuzz
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
