"""PyTorch twin of examples/vae_mnist.c: the VAE of PyTorch's examples/vae/main.py (784-400-20-400-784,
binary cross-entropy summed + KL divergence, Adam lr 1e-3, batch 128, shuffled training batches with
the last one short, as its DataLoader gives them), on the same IDX files, printing the same lines.
The loader is numpy instead of torchvision, so nothing but torch is needed.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 examples/bench/vae_mnist_torch.py [--epochs 10]
        [--batch 128] [--seed 1] [--limit N] [--threads T] [--data /usr/share/datasets/fashion-mnist]

Without torch it prints one line and exits 0.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np


def load_images(folder, name):
    """(N, H*W) float32 in [0, 1] from DIR/NAME or DIR/NAME.gz (IDX, unsigned bytes, 3 dimensions)."""
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        path += '.gz'
    if not os.path.exists(path):
        sys.exit('vae_mnist_torch: no %s[.gz] in %s; apt-get install dataset-fashion-mnist, or give --data DIR'
                 % (name, folder))
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        raw = f.read()
    if raw[:4] != b'\0\0\x08\x03':
        sys.exit('vae_mnist_torch: %s: not an IDX file of unsigned bytes in 3 dimensions' % path)
    n, h, w = (int.from_bytes(raw[4 + 4 * d:8 + 4 * d], 'big') for d in range(3))
    return np.frombuffer(raw, np.uint8, n * h * w, 16).reshape(n, h * w).astype(np.float32) / 255


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--limit', type=int, default=0, help='use only the first N training and N test images')
    ap.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (default: torch\'s own)')
    args = ap.parse_args()
    try:
        import torch
        from torch import nn
        from torch.nn import functional as F
    except ImportError:
        print('vae_mnist_torch: PyTorch is not installed (apt-get install python3-torch); nothing to compare')
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train = torch.from_numpy(load_images(args.data, 'train-images-idx3-ubyte'))
    test = torch.from_numpy(load_images(args.data, 't10k-images-idx3-ubyte'))
    if args.limit:
        train, test = train[:args.limit], test[:args.limit]

    class VAE(nn.Module):                      # examples/vae/main.py, as it is
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    print('vae_mnist_torch: %d training and %d test images from %s; 784-400-20, batch %d, Adam 1e-3, seed %d, '
          'torch %s, %d threads' % (len(train), len(test), args.data, args.batch, args.seed, torch.__version__,
                                    torch.get_num_threads()))
    for epoch in range(1, args.epochs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        train_loss = 0
        for idx in torch.randperm(len(train)).split(args.batch):
            data = train[idx]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        t1, c1 = time.perf_counter(), time.process_time()
        model.eval()
        test_loss = 0
        with torch.no_grad():
            for data in test.split(args.batch):
                recon_batch, mu, logvar = model(data)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
        print('====> Epoch: %d Average loss: %.4f  Test set loss: %.4f  (train %.2f s, cpu %.2f s; test %.2f s)'
              % (epoch, train_loss / len(train), test_loss / len(test), t1 - t0, c1 - c0, time.perf_counter() - t1),
              flush=True)


if __name__ == '__main__':
    main()
