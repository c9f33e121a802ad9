/* libFuzzer target for the PLY reader: make fuzz. */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_mesh(data, size, MC_MESH_PLY, "fuzz.ply");
}
