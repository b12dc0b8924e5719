/* bench/bench_word2vec.c: train duet's word2vec on a corpus file and print
 * one JSON line with the training time (the training loop only, as gensim's
 * Word2Vec.train() is timed by bench_word2vec.py) and the throughput.
 *
 *   bench_word2vec CORPUS OUT THREADS SEED [EPOCHS] [shuffle] [cbow]
 *
 * Hyperparameters are the defaults (dim 64, window 5, negative 5,
 * sample 1e-3, min_count 1, alpha 0.025 -> 1e-4); OUT gets the vectors in the
 * binary word2vec format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../recommender/word2vec.h"

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s CORPUS OUT THREADS SEED [EPOCHS] [shuffle] [cbow]\n", argv[0]);
        return 2;
    }
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 64;
    p.threads = atoi(argv[3]);
    p.seed = strtoull(argv[4], NULL, 10);
    if (argc > 5) p.epochs = atoi(argv[5]);
    for (int i = 6; i < argc; i++) {
        if (!strcmp(argv[i], "shuffle")) p.shuffle = 1;
        if (!strcmp(argv[i], "cbow")) p.cbow = 1;
    }
    duet_err err;
    duet_err_clear(&err);
    duet_w2v_corpus *c;
    duet_status st = duet_w2v_corpus_read_file(argv[1], &c, &err);
    if (st) {
        fprintf(stderr, "bench_word2vec: %s: %s\n", argv[1], duet_err_msg(&err, st));
        return 1;
    }
    duet_w2v_vectors *v;
    duet_w2v_train_stats s;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    st = duet_w2v_train(c, &p, &v, &s, &err);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    duet_w2v_corpus_free(c);
    if (st) {
        fprintf(stderr, "bench_word2vec: %s\n", duet_err_msg(&err, st));
        return 1;
    }
    st = duet_w2v_vectors_save(v, argv[2], W2V_FORMAT_BINARY, &err);
    duet_w2v_vectors_free(v);
    if (st) {
        fprintf(stderr, "bench_word2vec: %s: %s\n", argv[2], duet_err_msg(&err, st));
        return 1;
    }
    printf("{\"threads\": %d, \"seconds\": %.6f, \"corpus_tokens\": %llu, \"epochs\": %d, "
           "\"trained_tokens\": %llu, \"tokens_per_s\": %.1f, \"cpu_seconds\": %.6f, \"vocab\": %zu}\n",
           p.threads, s.seconds, (unsigned long long)s.corpus_tokens, p.epochs,
           (unsigned long long)s.trained_tokens,
           s.seconds > 0 ? (double)s.corpus_tokens * p.epochs / s.seconds : 0.0, cpu, s.vocab_size);
    return 0;
}
