#!/usr/bin/python3
"""bench/bench_rec.py: the peers of bench_rec.c.
  bench_rec.py [n_users n_items dim reps]: NumPy top-10 for every user (scores
      U @ V.T in batches of 256 users, mask ~49 training items per user, top-10
      with argpartition + a sort of the 10), users per second, best of R runs.
  bench_rec.py neumf [n_users n_items per_user F epochs]: the same NeuMF as
      recommender/neumf.c in PyTorch (GMF + MLP 4F -> 2F -> F, BCE with logits,
      4 negatives drawn per positive per epoch, batch 256, Adam with sparse
      embedding gradients), seconds per epoch (best of `epochs`)."""
import sys
import time

import numpy as np


def neumf(argv):
    import torch

    nu, ni, per, F, reps = (int(x) for x in (argv + ["1741", "2665", "39", "16", "3"][len(argv):])[:5])
    torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "2")))
    users = np.repeat(np.arange(nu), per)
    items = np.array([(u * 7919 + k) % ni for u in range(nu) for k in range(per)])
    seen = set(zip(users.tolist(), items.tolist()))

    class NeuMF(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gu = torch.nn.Embedding(nu, F, sparse=True)
            self.gi = torch.nn.Embedding(ni, F, sparse=True)
            self.mu = torch.nn.Embedding(nu, 2 * F, sparse=True)
            self.mi = torch.nn.Embedding(ni, 2 * F, sparse=True)
            for e in (self.gu, self.gi, self.mu, self.mi):
                torch.nn.init.normal_(e.weight, std=0.01)
            self.l1 = torch.nn.Linear(4 * F, 2 * F)
            self.l2 = torch.nn.Linear(2 * F, F)
            self.out = torch.nn.Linear(2 * F, 1)

        def forward(self, u, i):
            g = self.gu(u) * self.gi(i)
            h = torch.relu(self.l2(torch.relu(self.l1(torch.cat([self.mu(u), self.mi(i)], 1)))))
            return self.out(torch.cat([g, h], 1)).squeeze(1)

    model = NeuMF()
    sparse = [p for n, p in model.named_parameters() if n[:2] in ("gu", "gi", "mu", "mi")]
    dense = [p for n, p in model.named_parameters() if n[:2] not in ("gu", "gi", "mu", "mi")]
    opt_s = torch.optim.SparseAdam(sparse, lr=0.001)
    opt_d = torch.optim.Adam(dense, lr=0.001)
    rng = np.random.default_rng(1)
    best = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        # vectorised negative sampling: draw, then redraw the collisions
        nu_ = np.repeat(users, 4)
        nj = rng.integers(0, ni, size=nu_.size)
        bad = np.array([(u, j) in seen for u, j in zip(nu_.tolist(), nj.tolist())])
        while bad.any():
            nj[bad] = rng.integers(0, ni, size=int(bad.sum()))
            idx = np.nonzero(bad)[0]
            bad[idx] = [(int(nu_[k]), int(nj[k])) in seen for k in idx]
        su = np.concatenate([users, nu_]); si = np.concatenate([items, nj])
        sy = np.concatenate([np.ones(users.size), np.zeros(nu_.size)])
        perm = rng.permutation(len(su))
        U = torch.tensor(np.array(su)[perm]); I = torch.tensor(np.array(si)[perm])
        Y = torch.tensor(np.array(sy, dtype=np.float32)[perm])
        for b0 in range(0, len(su), 256):
            logit = model(U[b0:b0 + 256], I[b0:b0 + 256])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, Y[b0:b0 + 256])
            opt_s.zero_grad(); opt_d.zero_grad()
            loss.backward()
            opt_s.step(); opt_d.step()
        best = min(best, time.perf_counter() - t0)
    print(f"torch_neumf_epoch_s {best:.4f} ({nu} users x {ni} items, {len(users)} positives, F {F}, best of {reps})")


if len(sys.argv) > 1 and sys.argv[1] == "neumf":
    neumf(sys.argv[2:])
    sys.exit(0)

nu, ni, d, reps = (int(x) for x in (sys.argv[1:] + ["1892", "17632", "64", "5"][len(sys.argv) - 1:])[:4])
rng = np.random.default_rng(2024)
U = (0.1 * rng.standard_normal((nu, d))).astype(np.float32)
V = (0.1 * rng.standard_normal((ni, d))).astype(np.float32)
train = rng.integers(0, ni, size=(nu, 49))
best = 1e30
for _ in range(reps):
    t0 = time.perf_counter()
    out = np.empty((nu, 10), dtype=np.int64)
    for b0 in range(0, nu, 256):
        S = U[b0:b0 + 256] @ V.T
        rows = np.arange(S.shape[0])[:, None]
        S[rows, train[b0:b0 + 256]] = -np.inf
        top = np.argpartition(-S, 10, axis=1)[:, :10]
        order = np.argsort(-S[rows, top], axis=1, kind="stable")
        out[b0:b0 + 256] = top[rows, order]
    best = min(best, time.perf_counter() - t0)
print(f"numpy_users_per_s {nu / best:.1f} ({nu} users x {ni} items, dim {d}, best of {reps}: {best:.4f} s)")
