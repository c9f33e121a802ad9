"""Writes tests/reference/binary_cross_entropy.txt with PyTorch 1.13 (float64, on float32-rounded
inputs): torch.nn.functional.binary_cross_entropy(p, t, reduction='none') and the gradient of
sum(y * gy) with respect to p, with probabilities that round to 0 and 1 among them.

    /usr/bin/python3 tests/reference/make_binary_cross_entropy.py > tests/reference/binary_cross_entropy.txt
"""
import torch

torch.manual_seed(10)
B, D = 3, 8
p = torch.rand(B, D) * 0.96 + 0.02
p.view(-1)[:6] = torch.tensor([0.0, 1.0, 1e-7, 1 - 2 ** -23, 0.0, 1.0])    # saturated sigmoids
t = torch.randint(0, 256, (B, D)).float() / 255
t.view(-1)[:6] = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
p, t = p.float().double().requires_grad_(), t.float().double()
gy = torch.randn(B, D, dtype=torch.float64)
y = torch.nn.functional.binary_cross_entropy(p, t, reduction='none')
(y * gy).sum().backward()


def dump(name, x):
    x = x.detach()
    print(name, x.dim(), *x.shape)
    print(' '.join(repr(v) for v in x.reshape(-1).tolist()))


print("# binary_cross_entropy(p, t, reduction='none') of PyTorch %s, and grad of sum(y*gy) wrt p" % torch.__version__)
for name, x in [('p', p), ('t', t), ('gy', gy), ('y', y), ('dp', p.grad)]:
    dump(name, x)
