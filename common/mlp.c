/* mlp.c: the small neural model (see mlp.h for the layout and file format).
 *
 * Design.  One flat parameter array, layer after layer (weights output-major,
 * then biases), so the forward pass is two tight loops per layer and the
 * trainer's back-propagation (fraud_mlp_backward) walks the same offsets in
 * reverse.  Scratch memory is the caller's: the forward pass allocates
 * nothing, so the scorer can call it per transaction.
 *
 * Numerics.  The sigmoid is evaluated in the form that never overflows
 * (exp of a non-positive number only).  Trainer and scorer run this one
 * forward pass, so on one machine they agree to the bit; across
 * architectures a compiler that fuses multiply-adds could move the last bit
 * (the trainer's own files are built with -ffp-contract=off).
 *
 * File I/O.  fraud_mlp_save() encodes into memory (explicit little-endian),
 * writes it through lib/atomicfile.h, so a reader never sees half a
 * file.  fraud_mlp_load() refuses a file larger than the largest valid one
 * before reading it, then checks magic, shape, exact length, checksum and
 * std > 0 before it hands out the model; anything else is -EINVAL (-errno
 * from the file system, -EFBIG for a file too large), and the caller's
 * struct is left holding nothing.
 */
#include "common/mlp.h"

#include "lib/atomicfile.h"
#include "lib/hash.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MLP_MAGIC       "FRMLP001"
#define MLP_MAGIC_BYTES 8

static size_t layer_params(uint32_t in, uint32_t out) {
        return (size_t)in * out + out;
}

static bool shape_valid(uint32_t n_layers, const uint32_t *sizes) {
        if (n_layers < 1 || n_layers > FRAUD_MLP_LAYERS_MAX || sizes[n_layers] != 1)
                return false;
        for (uint32_t l = 0; l <= n_layers; l++)
                if (sizes[l] < 1 || sizes[l] > FRAUD_MLP_WIDTH_MAX)
                        return false;
        return true;
}

int fraud_mlp_init(struct fraud_mlp *m, uint32_t n_layers, const uint32_t *sizes) {
        memset(m, 0, sizeof(*m));
        if (!sizes || !shape_valid(n_layers, sizes))
                return -EINVAL;
        m->n_layers = n_layers;
        memcpy(m->sizes, sizes, (n_layers + 1) * sizeof(*sizes));
        for (uint32_t l = 0; l < n_layers; l++)
                m->n_params += layer_params(sizes[l], sizes[l + 1]);
        m->mean = calloc(sizes[0], sizeof(double));
        m->std = malloc(sizes[0] * sizeof(double));
        m->params = calloc(m->n_params, sizeof(double));
        if (!m->mean || !m->std || !m->params) {
                fraud_mlp_release(m);
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < sizes[0]; i++)
                m->std[i] = 1.0;
        return 0;
}

void fraud_mlp_release(struct fraud_mlp *m) {
        if (!m)
                return;
        free(m->mean);
        free(m->std);
        free(m->params);
        memset(m, 0, sizeof(*m));
}

size_t fraud_mlp_scratch_size(const struct fraud_mlp *m) {
        size_t n = 0;

        for (uint32_t l = 0; l <= m->n_layers; l++)
                n += m->sizes[l];
        return n;
}

static double sigmoid(double z) {
        if (z >= 0)
                return 1.0 / (1.0 + exp(-z));
        double e = exp(z);
        return e / (1.0 + e);
}

double fraud_mlp_forward(const struct fraud_mlp *m, const double *x, double *scratch) {
        const double *p = m->params;
        double *a = scratch;

        for (uint32_t i = 0; i < m->sizes[0]; i++)
                a[i] = (x[i] - m->mean[i]) / m->std[i];
        for (uint32_t l = 0; l < m->n_layers; l++) {
                uint32_t in = m->sizes[l], out = m->sizes[l + 1];
                const double *b = p + (size_t)in * out;
                double *next = a + in;
                bool last = l + 1 == m->n_layers;

                for (uint32_t o = 0; o < out; o++) {
                        const double *w = p + (size_t)o * in;
                        double z = b[o];

                        for (uint32_t i = 0; i < in; i++)
                                z += w[i] * a[i];
                        next[o] = last ? sigmoid(z) : (z > 0 ? z : 0);
                }
                p += layer_params(in, out);
                a = next;
        }
        return a[0];
}

void fraud_mlp_backward(const struct fraud_mlp *m, const double *scratch, double dlogit,
                        double *grad, double *delta) {
        size_t act = fraud_mlp_scratch_size(m), par = m->n_params;

        /* delta mirrors scratch: delta[k] = dLoss/d(pre-activation) of unit k. */
        act -= 1;
        delta[act] = dlogit;
        for (uint32_t l = m->n_layers; l-- > 0;) {
                uint32_t in = m->sizes[l], out = m->sizes[l + 1];
                const double *a_in = scratch + act - in;
                double *d_in = delta + act - in;
                const double *w;
                double *g;

                par -= layer_params(in, out);
                w = m->params + par;
                g = grad + par;
                for (uint32_t i = 0; i < in; i++)
                        d_in[i] = 0;
                for (uint32_t o = 0; o < out; o++) {
                        double d = delta[act + o];

                        g[(size_t)in * out + o] += d;
                        for (uint32_t i = 0; i < in; i++) {
                                g[(size_t)o * in + i] += d * a_in[i];
                                d_in[i] += d * w[(size_t)o * in + i];
                        }
                }
                if (l > 0) /* ReLU: the gradient passes where the unit was active */
                        for (uint32_t i = 0; i < in; i++)
                                if (a_in[i] <= 0)
                                        d_in[i] = 0;
                act -= in;
        }
}

/* ---- file format ---- */

static size_t file_size(uint32_t n_layers, const uint32_t *sizes, size_t n_params) {
        return MLP_MAGIC_BYTES + 4 + 4 * ((size_t)n_layers + 1) + 16 * (size_t)sizes[0] +
               8 * n_params + 8;
}

static unsigned char *put_u32(unsigned char *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                *p++ = (unsigned char)(v >> (8 * i));
        return p;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                *p++ = (unsigned char)(v >> (8 * i));
        return p;
}

static unsigned char *put_f64s(unsigned char *p, const double *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint64_t u;

                memcpy(&u, &v[i], sizeof(u));
                p = put_u64(p, u);
        }
        return p;
}

static uint32_t get_u32(const unsigned char *p) {
        uint32_t v = 0;

        for (int i = 3; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

static uint64_t get_u64(const unsigned char *p) {
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

static const unsigned char *get_f64s(const unsigned char *p, double *v, size_t n) {
        for (size_t i = 0; i < n; i++, p += 8) {
                uint64_t u = get_u64(p);

                memcpy(&v[i], &u, sizeof(u));
        }
        return p;
}

int fraud_mlp_save(const struct fraud_mlp *m, const char *path) {
        size_t n = file_size(m->n_layers, m->sizes, m->n_params);
        unsigned char *buf = malloc(n), *p;
        int r;

        if (!buf)
                return -ENOMEM;
        memcpy(buf, MLP_MAGIC, MLP_MAGIC_BYTES);
        p = put_u32(buf + MLP_MAGIC_BYTES, m->n_layers);
        for (uint32_t l = 0; l <= m->n_layers; l++)
                p = put_u32(p, m->sizes[l]);
        p = put_f64s(p, m->mean, m->sizes[0]);
        p = put_f64s(p, m->std, m->sizes[0]);
        p = put_f64s(p, m->params, m->n_params);
        p = put_u64(p, fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, buf, (size_t)(p - buf)));
        assert((size_t)(p - buf) == n);
        r = fraud_atomicfile_write(path, buf, n);
        free(buf);
        return r;
}

/* The largest valid file: every layer FRAUD_MLP_WIDTH_MAX wide. */
static size_t file_size_max(void) {
        uint32_t sizes[FRAUD_MLP_LAYERS_MAX + 1];
        size_t params = 0;

        for (int l = 0; l <= FRAUD_MLP_LAYERS_MAX; l++)
                sizes[l] = FRAUD_MLP_WIDTH_MAX;
        for (int l = 0; l < FRAUD_MLP_LAYERS_MAX; l++)
                params += layer_params(FRAUD_MLP_WIDTH_MAX, FRAUD_MLP_WIDTH_MAX);
        return file_size(FRAUD_MLP_LAYERS_MAX, sizes, params);
}

/* Reads the whole file into *buf (malloc'd, the caller frees); -EFBIG when
 * it is larger than any valid model. */
static int file_read(const char *path, unsigned char **buf, size_t *len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
        struct stat st;
        size_t n = 0;

        *buf = NULL;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (st.st_size < 0 || (uint64_t)st.st_size > file_size_max())
                r = -EFBIG;
        else if (!(*buf = malloc((size_t)st.st_size + 1)))
                r = -ENOMEM;
        while (r == 0) {
                ssize_t got = read(fd, *buf + n, (size_t)st.st_size + 1 - n);

                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                if (got <= 0 || (n += (size_t)got) > (size_t)st.st_size)
                        break;
        }
        close(fd);
        *len = n;
        return r;
}

/* Checks the header and length of buf; fills shape on success. */
static int header_parse(const unsigned char *buf, size_t len, uint32_t *n_layers, uint32_t *sizes,
                        size_t *n_params) {
        if (len < MLP_MAGIC_BYTES + 4 || memcmp(buf, MLP_MAGIC, MLP_MAGIC_BYTES) != 0)
                return -EINVAL;
        *n_layers = get_u32(buf + MLP_MAGIC_BYTES);
        if (*n_layers < 1 || *n_layers > FRAUD_MLP_LAYERS_MAX ||
            len < MLP_MAGIC_BYTES + 4 + 4 * ((size_t)*n_layers + 1))
                return -EINVAL;
        for (uint32_t l = 0; l <= *n_layers; l++)
                sizes[l] = get_u32(buf + MLP_MAGIC_BYTES + 4 + 4 * l);
        if (!shape_valid(*n_layers, sizes))
                return -EINVAL;
        *n_params = 0;
        for (uint32_t l = 0; l < *n_layers; l++)
                *n_params += layer_params(sizes[l], sizes[l + 1]);
        if (len != file_size(*n_layers, sizes, *n_params) ||
            get_u64(buf + len - 8) != fraud_hash_fnv1a(FRAUD_HASH_FNV1A_INIT, buf, len - 8))
                return -EINVAL;
        return 0;
}

int fraud_mlp_load(struct fraud_mlp *m, const char *path) {
        uint32_t n_layers, sizes[FRAUD_MLP_LAYERS_MAX + 1];
        unsigned char *buf = NULL;
        const unsigned char *p;
        size_t len = 0, n_params;
        int r;

        memset(m, 0, sizeof(*m));
        r = file_read(path, &buf, &len);
        if (r == 0)
                r = header_parse(buf, len, &n_layers, sizes, &n_params);
        if (r == 0)
                r = fraud_mlp_init(m, n_layers, sizes);
        if (r == 0) {
                p = buf + MLP_MAGIC_BYTES + 4 + 4 * ((size_t)n_layers + 1);
                p = get_f64s(p, m->mean, sizes[0]);
                p = get_f64s(p, m->std, sizes[0]);
                get_f64s(p, m->params, m->n_params);
                for (uint32_t i = 0; i < sizes[0]; i++)
                        if (!(m->std[i] > 0) || !isfinite(m->std[i]) || !isfinite(m->mean[i]))
                                r = -EINVAL;
                if (r < 0)
                        fraud_mlp_release(m);
        }
        free(buf);
        return r;
}
