/* mlp.h: the small neural model of the scorer's last stage, in plain C.
 *
 * A multi-layer perceptron: inputs standardised with the training set's
 * mean and standard deviation, hidden layers with ReLU, one sigmoid output
 * (the fraud probability).  The same struct and the same forward pass serve
 * training (trainer/fit.c, which also needs the activations for
 * back-propagation) and serving (scorer), so inference equals the training
 * code's forward pass by construction.
 *
 * Layout: layer l maps sizes[l] inputs to sizes[l+1] outputs with a weight
 * matrix stored row-major (output-major: w[o * in + i]) followed by its
 * biases.  All parameters live in one array, params, in layer order.
 *
 * File format (mlp.bin, little-endian): magic "FRMLP001", u32 n_layers
 * (number of weight layers), u32 sizes[n_layers + 1], f64 mean[sizes[0]],
 * f64 std[sizes[0]], f64 params[n_params], u64 FNV-1a 64 of everything
 * before it.  A file that is short, long, or fails the checksum is refused.
 */
#ifndef FRAUD_MLP_H
#define FRAUD_MLP_H

#include <stddef.h>
#include <stdint.h>

#define FRAUD_MLP_LAYERS_MAX 4   /* weight layers */
#define FRAUD_MLP_WIDTH_MAX 1024 /* units in one layer, inputs included */

struct fraud_mlp {
        uint32_t n_layers;                       /* weight layers, 1..FRAUD_MLP_LAYERS_MAX */
        uint32_t sizes[FRAUD_MLP_LAYERS_MAX + 1]; /* sizes[0] inputs ... sizes[n_layers] == 1 */
        double *mean;                            /* sizes[0]; owned */
        double *std;                             /* sizes[0]; owned, every value > 0 */
        double *params;                          /* n_params; owned */
        size_t n_params;
};

/* Allocates an MLP of the given shape (sizes[n_layers] must be 1), mean 0,
 * std 1, parameters 0.  -EINVAL for a bad shape, -ENOMEM. */
int fraud_mlp_init(struct fraud_mlp *m, uint32_t n_layers, const uint32_t *sizes);
void fraud_mlp_release(struct fraud_mlp *m);

/* Forward pass of one row of sizes[0] raw (unstandardised) features.
 * scratch holds at least fraud_mlp_scratch_size(m) doubles; afterwards it
 * holds every layer's activations, input layer (standardised) first, for
 * back-propagation.  Returns the probability in (0, 1). */
size_t fraud_mlp_scratch_size(const struct fraud_mlp *m);
double fraud_mlp_forward(const struct fraud_mlp *m, const double *x, double *scratch);

/* Back-propagation for training (trainer/fit.c): after fraud_mlp_forward()
 * filled scratch for one row, adds that row's gradient of the loss to grad
 * (n_params doubles, same layout as params), given dlogit, the derivative
 * of the loss with respect to the output's pre-sigmoid value (for weighted
 * log loss: weight * (p - label)).  delta is working memory of
 * fraud_mlp_scratch_size(m) doubles. */
void fraud_mlp_backward(const struct fraud_mlp *m, const double *scratch, double dlogit,
                        double *grad, double *delta);

/* Writes path through path.tmp and a rename.  0 or -errno. */
int fraud_mlp_save(const struct fraud_mlp *m, const char *path);
/* m is taken as uninitialised; on failure it holds nothing to release. */
int fraud_mlp_load(struct fraud_mlp *m, const char *path);

#endif
