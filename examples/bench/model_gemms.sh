# The paper preset's multiplies, one call each of gemm_row WHAT M K N [--trans-a] [--trans-b] and of
# linear_rows WHAT ROWS IN OUT (a linear layer's forward, input and weight gradients), which the sourcing
# script defines: run.sh and gemm_vs.sh time the same list.
model_gemms() {
    # encoder, per point: batch 8 x 2500 points
    linear_rows "encoder 3->64 (B=8)" 20000 3 64
    linear_rows "encoder 64->128 (B=8)" 20000 64 128
    linear_rows "encoder 128->1024 (B=8)" 20000 128 1024
    # decoder, one patch of 8 shapes x 100 points; its first layer in two halves: the latent half once per
    # shape (8 rows), the 2-d template half per point
    gemm_row "decoder 1, latent half fwd" 8 1024 1026 --trans-b
    gemm_row "decoder 1, latent half dz" 8 1026 1024
    gemm_row "decoder 1, latent half dW" 1026 8 1024 --trans-a
    gemm_row "decoder 1, template half fwd" 800 2 1026 --trans-b
    gemm_row "decoder 1, template half dW" 1026 800 2 --trans-a
    linear_rows "decoder 1026->513" 800 1026 513
    linear_rows "decoder 513->256" 800 513 256
    linear_rows "decoder 256->3" 800 256 3
    # for comparison: the first layer unsplit, per point, as PyTorch's AtlasNet computes it
    linear_rows "unsplit 1026->1026 (PyTorch's)" 800 1026 1026
}
