"""PyTorch twin of mache's AtlasNet VAE, for side-by-side benchmarks (issue 6).

The same model as models/atlasnet.c (presets "paper" and "cpu"), written the way PyTorch users write
AtlasNet: Conv1d with kernel 1 over (B, C, N), the first decoder layer a conv over concat(template, z).
`--split-first-layer` computes that layer as W_t t + W_z z instead, as mache does (the same function
and the same parameters). The project never needs PyTorch: without it this script prints one line and
exits 0.

    /usr/bin/python3 examples/bench/torch_twin.py train --preset paper --batch 8 --steps 10
    /usr/bin/python3 examples/bench/torch_twin.py train --preset cpu --batch 32 --steps 10 --split-first-layer
    /usr/bin/python3 examples/bench/torch_twin.py gemm --m 800 --k 1026 --n 1026

train: one warm-up step, then S timed steps (forward + backward + Adam step) on random point clouds;
last line `shapes_per_s=<batch / median step time> peak_rss_mib=<ru_maxrss>`. Each step also prints its
CPU time: about threads x wall means the machine was ours; much less means other load stole the cores.
gemm: times torch.matmul on float32 (the BLAS PyTorch is linked with); last line `gflops=<float>`.
--bf16: train runs the model under torch.autocast("cpu", dtype=torch.bfloat16) (the losses, weights and
Adam in fp32, as `mache train --precision bf16`); gemm multiplies bf16 matrices.
"""
import argparse
import os
import resource
import statistics
import sys
import time

# Numbers as in atlas_preset() in models/atlasnet.c; dec 0 means template dim + latent (the paper).
PRESETS = {
    "paper": dict(points=2500, patches=25, latent=1024, enc=(64, 128, 1024), dec=0),
    "cpu": dict(points=1024, patches=8, latent=256, enc=(64, 128, 512), dec=256),
}


def build(torch, cfg, vae, dim, split):
    nn, F = torch.nn, torch.nn.functional

    class Encoder(nn.Module):  # PointNet: 3 -> enc0 -> enc1 -> enc2, max over points, FC + BN + ReLU
        def __init__(self, e, latent):
            super().__init__()
            self.conv1, self.conv2, self.conv3 = nn.Conv1d(3, e[0], 1), nn.Conv1d(e[0], e[1], 1), nn.Conv1d(e[1], e[2], 1)
            self.bn1, self.bn2, self.bn3 = nn.BatchNorm1d(e[0]), nn.BatchNorm1d(e[1]), nn.BatchNorm1d(e[2])
            self.fc, self.bn_fc = nn.Linear(e[2], latent), nn.BatchNorm1d(latent)

        def forward(self, x):  # (B, 3, N)
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.relu(self.bn2(self.conv2(x)))
            x = self.bn3(self.conv3(x)).max(dim=2)[0]
            return F.relu(self.bn_fc(self.fc(x)))

    class PatchDecoder(nn.Module):  # AtlasNet's PointGenCon: (dim + latent) -> w -> w/2 -> w/4 -> 3
        def __init__(self, cin, w):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv1d(cin, w, 1), nn.Conv1d(w, w // 2, 1)
            self.conv3, self.conv4 = nn.Conv1d(w // 2, w // 4, 1), nn.Conv1d(w // 4, 3, 1)
            self.bn1, self.bn2, self.bn3 = nn.BatchNorm1d(w), nn.BatchNorm1d(w // 2), nn.BatchNorm1d(w // 4)

        def forward(self, t, z):  # t (B, dim, n), z (B, latent) -> (B, 3, n)
            if split:  # W_t t + (W_z z + b): the latent half once per shape, not once per point
                w = self.conv1.weight
                h = F.conv1d(t, w[:, :dim]) + F.linear(z, w[:, dim:, 0], self.conv1.bias).unsqueeze(2)
            else:  # the original: a conv over concat(template, z broadcast to every point)
                h = self.conv1(torch.cat([t, z.unsqueeze(2).expand(-1, -1, t.shape[2])], 1))
            h = F.relu(self.bn1(h))
            h = F.relu(self.bn2(self.conv2(h)))
            h = F.relu(self.bn3(self.conv3(h)))
            return torch.tanh(self.conv4(h))

    class AtlasNet(nn.Module):
        def __init__(self):
            super().__init__()
            latent = cfg["latent"]
            self.encoder = Encoder(cfg["enc"], latent)
            if vae:
                self.mu, self.logvar = nn.Linear(latent, latent), nn.Linear(latent, latent)
            width = cfg["dec"] or dim + latent
            self.decoder = nn.ModuleList(PatchDecoder(dim + latent, width) for _ in range(cfg["patches"]))

        def forward(self, points):  # (B, N, 3) -> recon (B, N, 3), mu, logvar
            h = self.encoder(points.transpose(1, 2))
            if not vae:
                return self.decode(h), h, None
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            return self.decode(z), mu, logvar

        def decode(self, z):
            B, n = z.shape[0], cfg["points"] // cfg["patches"]
            parts = []
            for d in self.decoder:
                t = torch.rand(B, dim, n) if dim == 2 else F.normalize(torch.randn(B, dim, n), dim=1)
                parts.append(d(t, z))
            return torch.cat(parts, 2).transpose(1, 2)

    return AtlasNet()


def chamfer(a, b):
    """Squared NN distances, mean over points both ways, summed, mean over the batch (full N x M matrix)."""
    d = (a * a).sum(2).unsqueeze(2) + (b * b).sum(2).unsqueeze(1) - 2 * a.bmm(b.transpose(1, 2))
    return (d.min(2)[0].mean(1) + d.min(1)[0].mean(1)).mean()


def kld(mu, logvar):  # summed over latent dimensions, mean over the batch
    return -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / mu.shape[0]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # ru_maxrss is KiB on Linux


def train(torch, a):
    cfg = PRESETS[a.preset]
    torch.manual_seed(a.seed)
    model = build(torch, cfg, a.model == "vae", 3 if a.template == "sphere" else 2, a.split_first_layer)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    points = torch.rand(a.batch, cfg["points"], 3) * 2 - 1
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} preset={a.preset} model={a.model} "
          f"batch={a.batch} first_layer={'split' if a.split_first_layer else 'concat'} "
          f"precision={'bf16' if a.bf16 else 'fp32'} "
          f"params={sum(p.numel() for p in model.parameters())}", flush=True)
    times = []
    for step in range(a.steps + 1):  # step 0 is the warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        # --bf16: the model under CPU autocast (its multiplies in bf16, weights and Adam fp32); the losses in
        # fp32, as mache computes everything outside the multiplies
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            recon, mu, logvar = model(points)
        recon = recon.float()
        mu, logvar = mu.float(), logvar.float() if logvar is not None else None
        cd = chamfer(recon, points)
        loss = cd + kld(mu, logvar) if logvar is not None else cd
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"step {step}{' (warm-up)' if step == 0 else ''}: {dt * 1e3:.1f} ms (cpu {cpu * 1e3:.0f} ms) "
              f"loss={loss.item():.4f}", flush=True)
        if step:
            times.append(dt)
    med = statistics.median(times)
    print(f"median_ms={med * 1e3:.1f} min_ms={min(times) * 1e3:.1f} max_ms={max(times) * 1e3:.1f}")
    print(f"shapes_per_s={a.batch / med:.3f} peak_rss_mib={peak_rss_mib():.1f}")


def gemm(torch, a):
    g = torch.Generator().manual_seed(1)
    A = torch.rand(a.k, a.m, generator=g).t() if a.trans_a else torch.rand(a.m, a.k, generator=g)
    B = torch.rand(a.n, a.k, generator=g).t() if a.trans_b else torch.rand(a.k, a.n, generator=g)
    A, B = A * 2 - 1, B * 2 - 1
    if a.bf16:
        A, B = A.bfloat16(), B.bfloat16()
    t0, warm = time.perf_counter(), 0
    while warm < 2 or (warm < 50 and time.perf_counter() - t0 < 0.05):
        torch.matmul(A, B)
        warm += 1
    reps = a.reps or max(5, min(1000, int(0.5 / ((time.perf_counter() - t0) / warm))))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(A, B)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"torch gemm {'T' if a.trans_a else 'N'}{'T' if a.trans_b else 'N'} m={a.m} k={a.k} n={a.n} "
          f"precision={'bf16' if a.bf16 else 'fp32'} "
          f"threads={torch.get_num_threads()} reps={reps} median_ms={med * 1e3:.4f} min_ms={min(times) * 1e3:.4f}")
    print(f"gflops={2.0 * a.m * a.n * a.k / med * 1e-9:.2f}")


def main(argv):
    p = argparse.ArgumentParser(description="PyTorch twin of mache's AtlasNet for benchmarks")
    p.add_argument("--threads", type=int, default=2, help="intra-op and BLAS threads (default 2)")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="time training steps")
    t.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--steps", type=int, default=5)
    t.add_argument("--model", choices=["vae", "ae"], default="vae")
    t.add_argument("--template", choices=["square", "sphere"], default="square")
    t.add_argument("--split-first-layer", action="store_true", help="first decoder layer as W_t t + W_z z")
    t.add_argument("--seed", type=int, default=1)
    g = sub.add_parser("gemm", help="time torch.matmul on float32")
    g.add_argument("--m", type=int, default=800)
    g.add_argument("--k", type=int, default=1026)
    g.add_argument("--n", type=int, default=1026)
    g.add_argument("--trans-a", action="store_true", help="A is stored K x M")
    g.add_argument("--trans-b", action="store_true", help="B is stored N x K")
    g.add_argument("--reps", type=int, default=0, help="timed calls (default: about half a second's worth)")
    for s in (t, g):  # --threads is accepted before or after the subcommand
        s.add_argument("--threads", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        s.add_argument("--bf16", action="store_true", help="bf16 multiplies (train: CPU autocast)")
    a = p.parse_args(argv)
    if min(getattr(a, k, 1) for k in ("threads", "batch", "steps", "m", "k", "n")) < 1:
        p.error("--threads, --batch, --steps, --m, --k and --n must be at least 1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)  # before the import: a generic-BLAS torch leaves the BLAS its own threads
    try:
        import torch
    except ImportError:
        print("torch not installed; skipping")
        return 0
    torch.set_num_threads(a.threads)
    (train if a.cmd == "train" else gemm)(torch, a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
