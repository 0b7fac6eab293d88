/* bounds.h: every named maximum of the system, in one place.
 *
 * Each buffer, queue, batch and window has a limit here (TigerBeetle style):
 * code that fills something checks it against its maximum and fails with
 * -ENOBUFS / -E2BIG rather than growing without bound.  Limits that an
 * operator may tune are config keys whose range is bounded by these.
 */
#ifndef FRAUD_BOUNDS_H
#define FRAUD_BOUNDS_H

/* ---- log ---- */
#define FRAUD_LOG_LINE_MAX 1024            /* bytes in one log line */

/* ---- arena ---- */
#define FRAUD_ARENA_BLOCK_MIN 4096         /* smallest block an arena grows by */
#define FRAUD_ARENA_BYTES_MAX (256u << 20) /* largest arena */

/* ---- metrics ---- */
#define FRAUD_METRICS_MAX 256              /* metrics in one registry */
#define FRAUD_METRICS_NAME_MAX 96          /* bytes of a metric name */
#define FRAUD_METRICS_LABELS_MAX 128       /* bytes of a label set, e.g. {reason="x"} */
#define FRAUD_METRICS_HELP_MAX 160         /* bytes of a help text */
#define FRAUD_HISTOGRAM_BUCKETS_MAX 32     /* finite buckets of a histogram */

/* ---- time ---- */
#define FRAUD_TIME_ISO8601_MAX 32          /* "2026-01-01T00:00:00.000000Z" + NUL */

/* ---- config (lib/config.c) ---- */
/* @config-bounds */

/* ---- kafka (lib/kafka.c) ---- */
/* @kafka-bounds */

/* ---- store (lib/store.c) ---- */
#define FRAUD_STORE_KEY_MAX 512            /* bytes of a state or meta key */
#define FRAUD_STORE_VALUE_MAX (1u << 20)   /* bytes of a state or meta value */
#define FRAUD_STORE_TOPIC_MAX 249          /* bytes of a topic name (Kafka's own limit) */
#define FRAUD_STORE_BATCH_OPS_MAX 65536    /* operations in one write batch */
#define FRAUD_STORE_BATCH_BYTES_MAX (64u << 20) /* key + value bytes in one write batch */
#define FRAUD_STORE_ERROR_MAX 512          /* bytes of the last error text */
#define FRAUD_STORE_BLOCK_CACHE_BYTES_MAX ((size_t)16 << 30) /* block cache */
#define FRAUD_STORE_WRITE_BUFFER_BYTES_MIN ((size_t)64 << 10) /* one memtable */
#define FRAUD_STORE_WRITE_BUFFER_BYTES_MAX ((size_t)1 << 30)  /* one memtable */
#define FRAUD_STORE_OPEN_FILES_MIN 20      /* RocksDB clips below this anyway */
#define FRAUD_STORE_OPEN_FILES_MAX 65536   /* table files held open */
#define FRAUD_STORE_LOG_FILES_MAX 4        /* RocksDB info LOG files kept */
#define FRAUD_STORE_LOG_FILE_BYTES_MAX ((size_t)16 << 20) /* one info LOG file */
/* @store-bounds */

/* ---- simulator (tools/) ---- */
/* @sim-bounds */

#endif
