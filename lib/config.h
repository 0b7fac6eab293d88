/* config.h: a YAML file read into a typed C struct through a key table.
 *
 * The mechanism knows nothing about what it configures.  A program declares
 * its struct and one table that describes every key: type, where it lives in
 * the struct, default, range, help text, whether it is secret, and which
 * environment variable overrides it.  The file is a mapping of sections,
 * each a mapping of key: value, and the struct mirrors it: one nested struct
 * per section, one field per key, with the same names.  The macros below take
 * the field path (kafka.linger_ms) and use it, as written, as the key's name,
 * so the C name and the YAML name cannot drift apart; they also refuse at
 * compile time a field whose C type does not match the key's type.
 *
 *   FRAUD_CONFIG_SECTION("kafka", "Kafka client settings."),
 *   FRAUD_CONFIG_INT(struct settings, kafka.linger_ms, 2, 1, 100,
 *                    "How long the producer waits to fill a batch."),
 *   FRAUD_CONFIG_STRING(struct settings, kafka.sasl_password, "", 0, 1024,
 *                       "SASL password.", .env = "KAFKA_SASL_PASSWORD",
 *                       .flags = FRAUD_CONFIG_SECRET),
 *
 * A key belongs to the section row above it.  After the help text, a row may
 * add .env and .flags, and a string key .check (a function that checks the
 * value's format, e.g. host:port; its reason is reported like any other).
 *
 * Values are applied in layers: defaults (fraud_config_init), then the file,
 * then the environment.  Reading is strict: unknown sections and keys,
 * duplicate keys, a value of the wrong type (abc or 1.5 for an integer, yes
 * or a quoted "5" for a number or bool), a value out of range, aliases, more
 * than one document and YAML syntax errors are all rejected.  The error text
 * goes to a caller's buffer as
 *
 *   FILE:LINE: section.key: reason     (LINE 1-based, of the key or value)
 *   env VAR: reason                    (for environment overrides)
 *
 * and the function returns -EINVAL (-errno for I/O, -ENOMEM).  Plain scalars
 * are accepted as strings (client_id: 42 is "42"); an empty value, ~ or null
 * is the empty string for a string key and an error for any other.
 *
 * Ownership: every string and list in the target is owned by it (copied on
 * assignment), whatever layer set it; fraud_config_release() frees them.  A
 * failed file or environment layer leaves the target valid (each key holds
 * its old or a new value), so the caller still releases it.
 *
 * Programmer errors in a table (a key outside a section, a default out of its
 * own range, two keys with one name) are caught by assertions in
 * fraud_config_init().  Nothing here logs or exits.
 */
#ifndef FRAUD_CONFIG_H
#define FRAUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/bounds.h"

enum fraud_config_type {
        FRAUD_CONFIG_TYPE_SECTION, /* not a key: starts a section */
        FRAUD_CONFIG_TYPE_BOOL,    /* bool: true or false */
        FRAUD_CONFIG_TYPE_INT64,   /* int64_t, decimal, within [min, max] */
        FRAUD_CONFIG_TYPE_DOUBLE,  /* double, finite, within [min_double, max_double] */
        FRAUD_CONFIG_TYPE_STRING,  /* char *, length within [min, max], maybe one of choices */
        FRAUD_CONFIG_TYPE_LIST,    /* char **, NULL-terminated; at most max items */
};

enum {
        FRAUD_CONFIG_SECRET = 1u << 0, /* fraud_config_dump() prints it as "" */
};

struct fraud_config_key {
        const char *name; /* "section.key", or "section" for a section row */
        enum fraud_config_type type;
        size_t offset; /* of the field in the target struct */
        bool def_bool;
        int64_t def_int;
        double def_double;
        const char *def_string; /* string; list: items separated by commas */
        int64_t min, max;       /* int64 value; string length in bytes; list items */
        double min_double, max_double;
        const char *choices; /* string: "a|b|c" lists the only values allowed */
        const char *env;     /* environment variable that overrides the value */
        unsigned flags;      /* FRAUD_CONFIG_SECRET */
        const char *help;    /* one or more sentences; dump wraps them */
        /* string: a further check of the value (its format); 0, or -EINVAL
         * with the reason in reason.  NULL: none. */
        int (*check)(const char *value, char *reason, size_t reason_size);
};

struct fraud_config_table {
        const char *help; /* heading comment of the dumped file; '\n' breaks lines */
        const struct fraud_config_key *keys;
        size_t n_keys;
};

/* The field's offset; a compile error (an array of negative size) when the
 * field is not of type ctype. */
#define FRAUD_CONFIG_OFFSET_(target, field, ctype)                                                 \
        (offsetof(target, field) +                                                                 \
         0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((target *)0)->field), ctype)     \
                                 ? 1                                                               \
                                 : -1]))

#define FRAUD_CONFIG_SECTION(section, help_text)                                                   \
        { .name = (section), .type = FRAUD_CONFIG_TYPE_SECTION, .help = (help_text) }

/* In each macro the trailing arguments are the help text and, optionally,
 * designated initializers for .env and .flags. */
#define FRAUD_CONFIG_BOOL(target, field, def, ...)                                                 \
        {                                                                                          \
                .name = #field, .type = FRAUD_CONFIG_TYPE_BOOL,                                    \
                .offset = FRAUD_CONFIG_OFFSET_(target, field, bool), .def_bool = (def),            \
                .help = __VA_ARGS__                                                                \
        }

#define FRAUD_CONFIG_INT(target, field, def, lo, hi, ...)                                          \
        {                                                                                          \
                .name = #field, .type = FRAUD_CONFIG_TYPE_INT64,                                   \
                .offset = FRAUD_CONFIG_OFFSET_(target, field, int64_t), .def_int = (def),          \
                .min = (lo), .max = (hi), .help = __VA_ARGS__                                      \
        }

#define FRAUD_CONFIG_DOUBLE(target, field, def, lo, hi, ...)                                       \
        {                                                                                          \
                .name = #field, .type = FRAUD_CONFIG_TYPE_DOUBLE,                                  \
                .offset = FRAUD_CONFIG_OFFSET_(target, field, double), .def_double = (def),        \
                .min_double = (lo), .max_double = (hi), .help = __VA_ARGS__                        \
        }

/* lo and hi bound the length in bytes. */
#define FRAUD_CONFIG_STRING(target, field, def, lo, hi, ...)                                       \
        {                                                                                          \
                .name = #field, .type = FRAUD_CONFIG_TYPE_STRING,                                  \
                .offset = FRAUD_CONFIG_OFFSET_(target, field, char *), .def_string = (def),        \
                .min = (lo), .max = (hi), .help = __VA_ARGS__                                      \
        }

/* A string that must be one of choices, written "a|b|c". */
#define FRAUD_CONFIG_CHOICE(target, field, def, choice_list, ...)                                  \
        {                                                                                          \
                .name = #field, .type = FRAUD_CONFIG_TYPE_STRING,                                  \
                .offset = FRAUD_CONFIG_OFFSET_(target, field, char *), .def_string = (def),        \
                .min = 1, .max = FRAUD_CONFIG_NAME_MAX, .choices = (choice_list),                  \
                .help = __VA_ARGS__                                                                \
        }

/* A YAML sequence of strings, [a, b]; def and the environment separate items
 * with commas.  At most items_max items, each up to FRAUD_CONFIG_STRING_BYTES_MAX. */
#define FRAUD_CONFIG_LIST(target, field, def, items_max, ...)                                      \
        {                                                                                          \
                .name = #field, .type = FRAUD_CONFIG_TYPE_LIST,                                    \
                .offset = FRAUD_CONFIG_OFFSET_(target, field, char **), .def_string = (def),       \
                .max = (items_max), .help = __VA_ARGS__                                            \
        }

/* Sets every key of target to its default.  target is taken as uninitialized
 * memory (nothing in it is freed).  -ENOMEM, with target released. */
int fraud_config_init(const struct fraud_config_table *t, void *target);

/* Applies the YAML text (len bytes, no NUL needed) over target; name is the
 * file name used in error messages. */
int fraud_config_buffer_apply(const struct fraud_config_table *t, void *target, const char *name,
                              const char *text, size_t len, char *err, size_t err_size);

/* Reads the file at path (at most FRAUD_CONFIG_FILE_BYTES_MAX) and applies it.
 * -errno when it cannot be read (-EFBIG when too large), with "FILE: reason". */
int fraud_config_file_apply(const struct fraud_config_table *t, void *target, const char *path,
                            char *err, size_t err_size);

/* Applies every key's environment variable that is set (even to ""). */
int fraud_config_env_apply(const struct fraud_config_table *t, void *target, char *err,
                           size_t err_size);

/* init, then the file at path (none when path is NULL), then the environment.
 * On failure target is released: there is nothing to free. */
int fraud_config_load(const struct fraud_config_table *t, void *target, const char *path, char *err,
                      size_t err_size);

/* Writes target as a YAML file that fraud_config_file_apply() reads back to
 * the same values: the table's heading, then each section and key with its
 * help, range, choices and environment variable as comments.  Secrets are
 * written as "".  -EIO when out reports an error. */
int fraud_config_dump(const struct fraud_config_table *t, const void *target, FILE *out);

/* Frees every string and list of target and sets them to NULL.  Numbers are
 * left as they are.  Idempotent. */
void fraud_config_release(const struct fraud_config_table *t, void *target);

/* The name of the first key whose value differs between a and b (both
 * targets of t), or NULL when every key is equal. */
const char *fraud_config_diff(const struct fraud_config_table *t, const void *a, const void *b);

#endif
