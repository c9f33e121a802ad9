/* libFuzzer target for mache's own checkpoint reader: make fuzz. (The FNV checksum stops most mutations
 * early, so the seeds' checksums are what the fuzzer must learn to fix; -use_cmp helps it along.) */
#include "tests/fuzz/fuzz_tensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_ckpt c;
    char err[MC_ERRLEN] = "";
    return fuzz_result(mc_ckpt_parse("fuzz.ckpt", data, size, &c, err), &c, err, 0);
}
