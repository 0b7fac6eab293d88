/* schema.h: the schema version of every message on the wire.
 *
 * Each message in proto/ carries schema_version.  A stage accepts the
 * versions it knows and sends anything else to dlq with reason
 * "bad_schema_version"; a change that old readers cannot ignore (a field
 * whose meaning changes, not a new optional field) bumps the version here.
 */
#ifndef FRAUD_SCHEMA_H
#define FRAUD_SCHEMA_H

#define TRANSACTION_SCHEMA_VERSION        1
#define FEATURE_VECTOR_SCHEMA_VERSION     1
#define SCORE_SCHEMA_VERSION              1
#define CHARGEBACK_SCHEMA_VERSION         1
#define LABEL_SCHEMA_VERSION              1
#define MODEL_ANNOUNCEMENT_SCHEMA_VERSION 1
#define DEAD_LETTER_SCHEMA_VERSION        1

#endif
