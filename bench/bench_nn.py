#!/usr/bin/python3
"""bench/bench_nn.py B H W ITERS THREADS: the PyTorch 1.13 peer of
bench_nn.c, the same U-Net-sized stack (see its header), timed the same way
(one warm-up, then the fastest of ITERS forward passes and of ITERS
training steps = forward + backward + Adam; forward with autograd on, as
duet's forward also keeps what backward needs). Prints "fwd_s X", "step_s X" and the same as process CPU time
("fwd_cpu_s", "step_cpu_s")."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(ci, co):
    return nn.Sequential(nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.e1, self.e2, self.e3, self.e4 = block(2, 16), block(16, 32), block(32, 64), block(64, 128)
        self.u3, self.d3 = block(128, 64), block(128, 64)
        self.u2, self.d2 = block(64, 32), block(64, 32)
        self.u1, self.d1 = block(32, 16), block(32, 16)
        self.head = nn.Conv2d(16, 2, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        e4 = self.e4(F.max_pool2d(e3, 2))
        up = lambda t, ref: F.interpolate(t, size=ref.shape[2:], mode="bilinear", align_corners=False)
        d3 = self.d3(torch.cat([self.u3(up(e4, e3)), e3], 1))
        d2 = self.d2(torch.cat([self.u2(up(d3, e2)), e2], 1))
        d1 = self.d1(torch.cat([self.u1(up(d2, e1)), e1], 1))
        return torch.sigmoid(self.head(d1))


def main():
    B, H, W, iters, threads = (int(a) for a in sys.argv[1:6])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = UNet().train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, t = torch.rand(B, 2, H, W), torch.rand(B, 2, H, W)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.l1_loss(net(x), t)
        loss.backward()
        opt.step()
        return loss

    step()
    fwd = st = cf = cs = float("inf")
    for _ in range(iters):
        t0, c0 = time.perf_counter(), time.process_time()
        net(x)
        fwd, cf = min(fwd, time.perf_counter() - t0), min(cf, time.process_time() - c0)
    for _ in range(iters):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        st, cs = min(st, time.perf_counter() - t0), min(cs, time.process_time() - c0)
    print(f"fwd_s {fwd:.4f}\nstep_s {st:.4f}\nfwd_cpu_s {cf:.4f}\nstep_cpu_s {cs:.4f}")


if __name__ == "__main__":
    main()
