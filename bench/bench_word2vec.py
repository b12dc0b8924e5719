#!/usr/bin/python3
"""bench/bench_word2vec.py BUILD_DIR HETREC_DIR: duet's word2vec against gensim 4.

Run by bench/bench_word2vec.sh (Debian's /usr/bin/python3). Same corpus (built
by `duet word2vec-corpus`), same hyperparameters (skip-gram, negative 5,
window 5, dim 64, sample 1e-3, min_count 1, alpha 0.025 -> 1e-4, 5 epochs),
same seeds, in one run:

throughput  tokens/s of the training loop only (corpus tokens x epochs /
            seconds; duet times duet_w2v_train's loop, gensim its train() call,
            vocabulary building excluded for both), 1 and 2 threads, best of
            REPS runs, duet and gensim interleaved so that the load of the
            (shared) machine hits both alike. gensim is run both on an
            in-memory list of sentences and in its corpus_file mode; the ratio
            is against the faster of the two.
quality     on artists with >= 20 listeners: Spearman correlation between
            the cosine of two artists' vectors and the Jaccard similarity of
            their listener sets, on a fixed sample of 5000 pairs; and the
            overlap of each popular artist's 10 nearest neighbours (by cosine)
            with its 10 nearest by Jaccard (top 100 artists by listeners);
            mean and sd over SEEDS seeds, both with 2 threads. Also the
            agreement of duet's and gensim's neighbour lists, against the
            agreement of gensim with itself across seeds (noise level).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
from scipy.stats import spearmanr

import logging
logging.disable(logging.WARNING)

from gensim.models import KeyedVectors, Word2Vec  # noqa: E402

B, DATA = sys.argv[1], sys.argv[2]
REPS = int(os.environ.get("W2V_BENCH_REPS", "3"))
SEEDS = int(os.environ.get("W2V_BENCH_SEEDS", "3"))
HP = dict(vector_size=64, window=5, negative=5, sample=1e-3, min_count=1, sg=1, hs=0,
          alpha=0.025, min_alpha=1e-4, epochs=5)
DUET = os.path.join(B, "duet")
BENCH = os.path.join(B, "bench", "bench_word2vec")


def duet_train(corpus, out, threads, seed):
    r = subprocess.run([BENCH, corpus, out, str(threads), str(seed), str(HP["epochs"])],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def gensim_model(sents, threads, seed):
    m = Word2Vec(workers=threads, seed=seed, **{k: v for k, v in HP.items() if k != "epochs"})
    m.build_vocab(sents)
    return m


def gensim_train(sents, threads, seed, corpus_file=None, total_words=None, cpu=None):
    m = gensim_model(sents, threads, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    if corpus_file:
        m.train(corpus_file=corpus_file, total_examples=m.corpus_count, total_words=total_words,
                epochs=HP["epochs"])
    else:
        m.train(sents, total_examples=m.corpus_count, epochs=HP["epochs"])
    if cpu is not None:
        cpu.append(time.process_time() - c0)
    return m, time.perf_counter() - t0


def listeners(data):
    lis = defaultdict(set)
    with open(os.path.join(data, "user_artists.dat")) as f:
        next(f)
        for line in f:
            u, a, _ = line.split("\t")
            lis[int(a)].add(int(u))
    return lis


def quality(kv, pairs, jac, popular, cand, jac_top):
    """Spearman(cosine, Jaccard) over pairs; mean top-10 overlap with Jaccard."""
    tok = ["artist:%d" % a for a in cand]
    M = np.stack([kv[t] for t in tok]).astype(np.float64)
    M /= np.linalg.norm(M, axis=1, keepdims=True) + 1e-12
    pos = {a: i for i, a in enumerate(cand)}
    cos = np.array([M[pos[a]] @ M[pos[b]] for a, b in pairs])
    rho = spearmanr(cos, jac).correlation
    ov, nbrs = [], {}
    for a in popular:
        s = M @ M[pos[a]]
        s[pos[a]] = -np.inf
        top = [cand[i] for i in np.argsort(-s)[:10]]
        nbrs[a] = top
        ov.append(len(set(top) & jac_top[a]) / 10.0)
    return rho, float(np.mean(ov)), nbrs


def agreement(n1, n2):
    return float(np.mean([len(set(n1[a]) & set(n2[a])) / 10.0 for a in n1]))


def main():
    tmp = tempfile.mkdtemp(prefix="duet_w2v_bench_")
    corpus = os.path.join(tmp, "hetrec.txt")
    r = subprocess.run([DUET, "word2vec-corpus", "--hetrec", DATA, "--out", corpus],
                       capture_output=True, text=True)
    if r.returncode:
        print("bench_word2vec: corpus build failed:", r.stderr.strip())
        return 1
    print(r.stderr.strip())
    sents = [line.split() for line in open(corpus, encoding="utf-8")]
    n_tok = sum(len(s) for s in sents)
    print("corpus: %d sentences, %d tokens; hyperparameters %s" % (len(sents), n_tok, HP))

    # ---------------------------------------------------------- throughput
    print("\nthroughput (corpus tokens x %d epochs / training seconds, best of %d):" % (HP["epochs"], REPS))
    ratios = {}
    print("  (load average at start: %.1f on %d cores)" % (os.getloadavg()[0], os.cpu_count()))
    for threads in (1, 2):
        best = {"duet": 0.0, "gensim": 0.0, "gensim-file": 0.0}
        cpu = {"duet": 1e30, "gensim": 1e30}
        for rep in range(REPS):
            d = duet_train(corpus, os.path.join(tmp, "t.bin"), threads, 1 + rep)
            best["duet"] = max(best["duet"], d["tokens_per_s"])
            cpu["duet"] = min(cpu["duet"], d["cpu_seconds"])
            gc = []
            _, dt = gensim_train(sents, threads, 1 + rep, cpu=gc)
            best["gensim"] = max(best["gensim"], n_tok * HP["epochs"] / dt)
            cpu["gensim"] = min(cpu["gensim"], gc[0])
            _, dt = gensim_train(sents, threads, 1 + rep, corpus_file=corpus, total_words=n_tok)
            best["gensim-file"] = max(best["gensim-file"], n_tok * HP["epochs"] / dt)
        g = max(best["gensim"], best["gensim-file"])
        ratios[threads] = best["duet"] / g
        print("  %d thread%s: duet %.0f tokens/s, gensim %.0f (sentences) / %.0f (corpus_file); "
              "duet/gensim = %.2fx" % (threads, "s" if threads > 1 else " ", best["duet"], best["gensim"],
                                        best["gensim-file"], ratios[threads]))
        print("             per CPU-second (less sensitive to a loaded machine): duet %.0f, gensim %.0f "
              "tokens; ratio %.2fx" % (n_tok * HP["epochs"] / cpu["duet"], n_tok * HP["epochs"] / cpu["gensim"],
                                       cpu["gensim"] / cpu["duet"]))

    if os.environ.get("W2V_BENCH_QUALITY", "1") == "0":
        print("\nword2vec ratio duet/gensim tokens/s: 1 thread %.2fx, 2 threads %.2fx (goal >= 1.5x)" %
              (ratios[1], ratios[2]))
        subprocess.run(["rm", "-rf", tmp])
        return 0

    # ------------------------------------------------------------- quality
    lis = listeners(DATA)
    cand = sorted(a for a, s in lis.items() if len(s) >= 20)
    rng = np.random.default_rng(0)
    pairs = []
    while len(pairs) < 5000:
        i, j = rng.integers(0, len(cand), size=2)
        if i != j:
            pairs.append((cand[i], cand[j]))
    jac = np.array([len(lis[a] & lis[b]) / len(lis[a] | lis[b]) for a, b in pairs])
    popular = sorted(cand, key=lambda a: -len(lis[a]))[:100]
    jac_top = {}
    for a in popular:
        sims = [(len(lis[a] & lis[b]) / len(lis[a] | lis[b]), b) for b in cand if b != a]
        sims.sort(key=lambda x: (-x[0], x[1]))
        jac_top[a] = set(b for _, b in sims[:10])
    print("\nquality (2 threads each; %d artists with >= 20 listeners, %d pairs, %.0f%% with Jaccard > 0; "
          "top-10 overlap with Jaccard neighbours for the %d most listened):" %
          (len(cand), len(pairs), 100 * np.mean(jac > 0), len(popular)))
    res = {"duet": [], "gensim": []}
    nb = {"duet": [], "gensim": []}
    for seed in range(1, SEEDS + 1):
        out = os.path.join(tmp, "q%d.bin" % seed)
        duet_train(corpus, out, 2, seed)
        kv_d = KeyedVectors.load_word2vec_format(out, binary=True)
        m, _ = gensim_train(sents, 2, seed)
        for name, kv in (("duet", kv_d), ("gensim", m.wv)):
            rho, ov, nbrs = quality(kv, pairs, jac, popular, cand, jac_top)
            res[name].append((rho, ov))
            nb[name].append(nbrs)
            print("  seed %d %-7s Spearman %.4f  top-10 overlap %.4f" % (seed, name, rho, ov))
    summary = {}
    for name in ("duet", "gensim"):
        a = np.array(res[name])
        summary[name] = (a.mean(0), a.std(0, ddof=1) if len(a) > 1 else np.zeros(2))
        print("  %-7s mean Spearman %.4f +- %.4f, top-10 overlap %.4f +- %.4f" %
              (name, summary[name][0][0], summary[name][1][0], summary[name][0][1], summary[name][1][1]))
    dg = np.mean([agreement(nb["duet"][i], nb["gensim"][i]) for i in range(SEEDS)])
    gg = np.mean([agreement(nb["gensim"][i], nb["gensim"][(i + 1) % SEEDS]) for i in range(SEEDS)]) if SEEDS > 1 else float("nan")
    dd = np.mean([agreement(nb["duet"][i], nb["duet"][(i + 1) % SEEDS]) for i in range(SEEDS)]) if SEEDS > 1 else float("nan")
    print("  neighbour agreement (top-10 of the popular artists): duet vs gensim %.3f, "
          "gensim seed vs seed %.3f, duet seed vs seed %.3f" % (dg, gg, dd))
    d, g = summary["duet"], summary["gensim"]
    noise = 2 * np.sqrt((d[1] ** 2 + g[1] ** 2) / max(SEEDS, 1))
    ok = bool(np.all(d[0] >= g[0] - noise - 1e-12))
    print("  quality: duet %s gensim within noise (duet - gensim: Spearman %+.4f, overlap %+.4f; 2 sd of the "
          "difference of means %.4f, %.4f)" % ("at least as good as" if ok else "WORSE than",
                                                d[0][0] - g[0][0], d[0][1] - g[0][1], noise[0], noise[1]))

    # duet with --shuffle (sentences reshuffled every epoch: the builder's
    # recommended mode for these unordered sentences; gensim has no such mode)
    sh = []
    for seed in range(1, SEEDS + 1):
        out = os.path.join(tmp, "s%d.bin" % seed)
        subprocess.run([BENCH, corpus, out, "2", str(seed), str(HP["epochs"]), "shuffle"], check=True,
                       capture_output=True)
        rho, ov, _ = quality(KeyedVectors.load_word2vec_format(out, binary=True), pairs, jac, popular, cand,
                             jac_top)
        sh.append((rho, ov))
    sh = np.array(sh)
    print("  duet --shuffle: mean Spearman %.4f, top-10 overlap %.4f (%d seeds)" %
          (sh[:, 0].mean(), sh[:, 1].mean(), SEEDS))

    # gensim reads duet's text output too (binary was read above)
    txt = os.path.join(tmp, "v.txt")
    subprocess.run([DUET, "word2vec", "--input", corpus, "--out", txt, "--threads", "2", "--epochs", "1"],
                   check=True, capture_output=True)
    kv = KeyedVectors.load_word2vec_format(txt, binary=False)
    print("\ngensim load_word2vec_format of duet's text output: %d vectors of dim %d" %
          (len(kv.index_to_key), kv.vector_size))
    print("\nword2vec ratio duet/gensim tokens/s: 1 thread %.2fx, 2 threads %.2fx (goal >= 1.5x)" %
          (ratios[1], ratios[2]))
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
