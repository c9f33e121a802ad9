/* libFuzzer target for the safetensors reader: make fuzz. */
#include "tests/fuzz/fuzz_tensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_ckpt c;
    char err[MC_ERRLEN] = "";
    return fuzz_result(mc_safetensors_parse("fuzz.safetensors", data, size, &c, err), &c, err, 1);
}
