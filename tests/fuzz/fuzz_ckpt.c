/* libFuzzer target for mache's own checkpoint reader: make fuzz. Each input is read twice: as it is (the
 * checksum must reject nearly every mutation), and with its last 8 bytes replaced by the right FNV-1a
 * checksum, so that mutations reach the parser behind it. */
#include "tests/fuzz/fuzz_tensors.h"

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_ckpt c;
    char err[MC_ERRLEN] = "";
    fuzz_result(mc_ckpt_parse("fuzz.ckpt", data, size, &c, err), &c, err, 0);
    if (size < 16) return 0;
    uint8_t *fixed = malloc(size);
    memcpy(fixed, data, size);
    uint64_t h = fnv1a(fixed, size - 8);
    for (int k = 0; k < 8; k++) fixed[size - 8 + k] = (uint8_t)(h >> (8 * k));
    err[0] = 0;
    fuzz_result(mc_ckpt_parse("fuzz.ckpt", fixed, size, &c, err), &c, err, 0);
    free(fixed);
    return 0;
}
