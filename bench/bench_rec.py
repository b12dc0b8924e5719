#!/usr/bin/python3
"""bench/bench_rec.py: the peers of bench_rec.c (run by bench_rec.sh with
Debian's /usr/bin/python3).

  bench_rec.py topk DIR [reps]
      NumPy top-10 for every user on the very factors and training items that
      `bench_rec topk DIR` wrote (U.f32, V.f32, mask.i32): scores U @ V.T per
      batch of 256 users (OpenBLAS sgemm), training items set to -inf, top-10
      by argpartition + a sort of the 10. Prints users per second (best of
      reps) and how many users get the same top-10 list as duet (top10.i32).

  bench_rec.py neumf PREFIX MODE [F reps]
      The NeuMF of recommender/neumf.c in PyTorch on PREFIX.train.rating:
      GMF (F) + MLP (embeddings 2F, 4F -> 2F -> F, ReLU), output layer on
      [GMF, MLP], BCE with logits; per epoch 4 negatives per positive drawn
      uniformly among the items the user has no training row for, shuffled,
      batches of 256, lr 0.001. MODE dense: nn.Embedding(sparse=False) and
      torch.optim.Adam on every parameter; MODE lazy: nn.Embedding(sparse=True)
      with torch.optim.SparseAdam for the tables and Adam for the rest. One
      epoch = sampling + shuffling + all batches. Seconds per epoch, best of
      reps epochs after one warm-up epoch; threads from OMP_NUM_THREADS."""
import os
import sys
import time

import numpy as np


def topk(argv):
    d = argv[0]
    reps = int(argv[1]) if len(argv) > 1 else 5
    top_duet = np.fromfile(os.path.join(d, "top10.i32"), dtype=np.int32).reshape(-1, 10)
    nu = top_duet.shape[0]
    U = np.fromfile(os.path.join(d, "U.f32"), dtype=np.float32).reshape(nu, -1)
    V = np.fromfile(os.path.join(d, "V.f32"), dtype=np.float32).reshape(-1, U.shape[1])
    train = np.fromfile(os.path.join(d, "mask.i32"), dtype=np.int32).reshape(nu, -1)
    ni = V.shape[0]
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
    same = int((out == top_duet).all(axis=1).sum())
    print(f"numpy_users_per_s {nu / best:.1f} ({nu} users x {ni} items, dim {U.shape[1]}, best of {reps}: "
          f"{best:.4f} s; same top-10 as duet for {same}/{nu} users)")


def neumf(argv):
    import torch

    prefix, mode = argv[0], argv[1]
    F = int(argv[2]) if len(argv) > 2 else 16
    reps = int(argv[3]) if len(argv) > 3 else 3
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(7)
    tr = np.loadtxt(prefix + ".train.rating", dtype=np.int64, usecols=(0, 1), ndmin=2)
    users, items = tr[:, 0], tr[:, 1]
    nu, ni = int(users.max()) + 1, int(items.max()) + 1
    keys = np.unique(users * ni + items)  # sorted (user, item) codes of the positives
    sparse = mode == "lazy"

    class NeuMF(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gu = torch.nn.Embedding(nu, F, sparse=sparse)
            self.gi = torch.nn.Embedding(ni, F, sparse=sparse)
            self.mu = torch.nn.Embedding(nu, 2 * F, sparse=sparse)
            self.mi = torch.nn.Embedding(ni, 2 * F, sparse=sparse)
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
    emb = [p for n, p in model.named_parameters() if n[:2] in ("gu", "gi", "mu", "mi")]
    rest = [p for n, p in model.named_parameters() if n[:2] not in ("gu", "gi", "mu", "mi")]
    if sparse:
        opts = [torch.optim.SparseAdam(emb, lr=0.001), torch.optim.Adam(rest, lr=0.001)]
    else:
        opts = [torch.optim.Adam(emb + rest, lr=0.001)]
    rng = np.random.default_rng(1)
    best, best_cpu, loss_sum, nb = 1e30, 1e30, 0.0, 0
    for ep in range(reps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        # negatives: draw, then redraw the ones that are training positives (vectorised)
        nu_ = np.repeat(users, 4)
        nj = rng.integers(0, ni, size=nu_.size)
        bad = np.isin(nu_ * ni + nj, keys, assume_unique=False)
        while bad.any():
            idx = np.nonzero(bad)[0]
            nj[idx] = rng.integers(0, ni, size=idx.size)
            bad[idx] = np.isin(nu_[idx] * ni + nj[idx], keys)
        su = np.concatenate([users, nu_])
        si = np.concatenate([items, nj])
        sy = np.concatenate([np.ones(users.size, dtype=np.float32), np.zeros(nu_.size, dtype=np.float32)])
        perm = rng.permutation(su.size)
        U = torch.from_numpy(su[perm])
        I = torch.from_numpy(si[perm])
        Y = torch.from_numpy(sy[perm])
        loss_sum, nb = 0.0, 0
        for b0 in range(0, su.size, 256):
            logit = model(U[b0:b0 + 256], I[b0:b0 + 256])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, Y[b0:b0 + 256])
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
            loss_sum += loss.item()
            nb += 1
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if ep > 0:
            best, best_cpu = min(best, dt), min(best_cpu, dc)
    print(f"torch_neumf_epoch_s {mode} {best:.4f} cpu_s {best_cpu:.4f} ({nu} users x {ni} items, {users.size} positives, F {F}, "
          f"{'SparseAdam + Adam' if sparse else 'Adam'}, {torch.get_num_threads()} threads, best of {reps} epochs "
          f"after 1 warm-up, last loss {loss_sum / nb:.4f})")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "topk":
        topk(sys.argv[2:])
    elif len(sys.argv) > 3 and sys.argv[1] == "neumf":
        neumf(sys.argv[2:])
    else:
        sys.exit("usage: bench_rec.py topk DIR [reps] | neumf PREFIX dense|lazy [F reps]")
