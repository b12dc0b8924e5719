/* duet.h: the whole public API of libduet in one include. Each module's
 * header states ownership and errors for its functions. */
#ifndef DUET_H
#define DUET_H
#include "common/status.h"
#include "common/rng.h"
#include "common/atomic_file.h"
#include "common/progress.h"
#include "audio/audio.h"
#include "audio/stft.h"
#include "nn/nn.h"
#include "recommender/word2vec.h"
#include "recommender/w2v_corpus.h"
#include "recommender/data.h"
#include "recommender/split.h"
#include "recommender/metrics.h"
#include "recommender/model.h"
#include "recommender/eval.h"
#include "features/describe.h"
#include "features/loudness.h"
#include "features/mel.h"
#include "features/pitch.h"
#include "features/spectral.h"
#include "features/tempo.h"
#include "separation/bsseval.h"
#include "separation/sdr.h"
#include "separation/separators.h"
#include "separation/sepnet.h"
#include "separation/sepnet_infer.h"
#include "separation/sepnet_train.h"
#include "separation/stems_io.h"
#include "separation/sep_eval.h"

#ifdef __cplusplus
extern "C" {
#endif
#ifdef __cplusplus
}
#endif

#endif
