/* featureset.h: the feature schema shared by velocity (which computes the
 * features), the scorer (which serves models on them) and the trainer
 * (which learns on them).
 *
 * A feature schema is an ordered list of names.  Its identity on the wire is
 * FeatureVector.feature_schema_hash = fraud_featureset_hash(names, n): FNV-1a
 * 64 over each name followed by '\n'.  A model's metadata lists the names it
 * was trained on; the scorer refuses a model whose hash differs from the
 * vectors it receives.
 */
#ifndef FRAUD_FEATURESET_H
#define FRAUD_FEATURESET_H

#include <stddef.h>
#include <stdint.h>

uint64_t fraud_featureset_hash(const char *const *names, size_t n);

#endif
