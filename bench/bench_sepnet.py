#!/usr/bin/python3
"""bench/bench_sepnet.py MODEL DIR ITERS THREADS: the PyTorch 1.13 peer of
bench/bench_sepnet.c. Builds duet's separation network from MODEL (the
module of fixtures/gen_sepnet_torch.py: architecture from the file's
metadata, the same weights), reads the inputs bench_sepnet wrote to
DIR/io.safetensors and prints, one line per measurement:
  mask_err X  max |duet masks - PyTorch masks| over every inference chunk
              (evaluation mode, float32): the same network, checked each run
  net_s X     torch.no_grad() evaluation forwards of the same chunks, in
              batches of the same size as duet's
  step_s X    a training step on the same batch: forward (batch statistics,
              dropout), L1 loss on both stems (duet's), backward,
              clip_grad_norm_(5), Adam (lr 1e-3)
after one warm-up, ITERS times each, on torch.set_num_threads(THREADS)."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import gen_sepnet_torch as G  # noqa: E402


def main():
    model, d, iters, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net, _ = G.load(model)
    io, meta = G.st_read(os.path.join(d, "io.safetensors"))
    ib = int(meta["infer_batch"])
    feat = torch.from_numpy(io["infer.feat"].copy())
    ref = torch.from_numpy(io["infer.masks"].copy())
    tfeat = torch.from_numpy(io["train.feat"].copy())
    mags = torch.from_numpy(io["train.mags"].copy())
    mx, mv, ma = mags[:, 0], mags[:, 1], mags[:, 2]
    n = feat.shape[0]

    net.eval()

    def infer():
        outs = []
        with torch.no_grad():
            for i in range(0, n, ib):
                outs.append(net(feat[i:i + ib]))
        return outs

    err = max(float((o - ref[i * ib:i * ib + o.shape[0]]).abs().max()) for i, o in enumerate(infer()))
    print(f"mask_err {err:.3e}", flush=True)
    for _ in range(iters):
        t0 = time.perf_counter()
        infer()
        print(f"net_s {time.perf_counter() - t0:.5f}", flush=True)

    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    inv = 1.0 / (2.0 * mx.numel())

    def step():
        masks = net(tfeat)
        loss = ((masks[:, 0] * mx - mv).abs().sum() + (masks[:, 1] * mx - ma).abs().sum()) * inv
        opt.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        return float(loss)

    step()
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        print(f"step_s {time.perf_counter() - t0:.5f}", flush=True)


if __name__ == "__main__":
    main()
