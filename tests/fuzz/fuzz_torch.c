/* libFuzzer target for PyTorch checkpoints, both formats end to end (zip reader, unpickler, storages): make fuzz. */
#include "tests/fuzz/fuzz_tensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_ckpt c;
    char err[MC_ERRLEN] = "";
    return fuzz_result(mc_torch_parse("fuzz.pth", data, size, &c, err), &c, err, 1);
}
