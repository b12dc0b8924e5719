/* nn/nn.h: the neural-network engine in one include: sgemm and thread
 * policy, parameter blocks and arenas, layers (forward/backward), optimisers,
 * safetensors, checkpoints. */
#ifndef DUET_NN_NN_H
#define DUET_NN_NN_H
#include "gemm.h"
#include "tensor.h"
#include "layers.h"
#include "optim.h"
#include "safetensors.h"
#include "checkpoint.h"

#ifdef __cplusplus
extern "C" {
#endif
#ifdef __cplusplus
}
#endif

#endif
