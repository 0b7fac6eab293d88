/* test_deploy.c: deploy/ checked against the code and against itself.
 *
 * The deployment files repeat facts the code owns -- setting names, ports,
 * paths, topic names, binaries, metric names -- and repeat them in several
 * places (a stage's port is in the ConfigMap, the container, its probes, its
 * Service, its scrape annotation, the Dockerfile and, for systemd, the
 * Prometheus targets).  Each test below takes one such fact from where it is
 * defined and checks every place that repeats it, so a change in one place
 * only fails here:
 *
 *   - both configurations (the Kubernetes ConfigMap's fraud.yaml and
 *     deploy/systemd/fraud.yaml) load through the settings table, as the
 *     daemons load them, and the ConfigMap's rules load against the feature
 *     schema its window spans make;
 *   - ports, probe paths, state and registry volumes, the security context
 *     and resources of every workload in kustomization.yaml;
 *   - the KafkaTopics against the topics.* settings;
 *   - the Dockerfile's copied binaries against this build, its USER against
 *     the pods' runAsUser, its EXPOSE against the ports;
 *   - the systemd units' ExecStart, hardening and state directories against
 *     the systemd configuration, and Prometheus' targets against its ports;
 *   - the Grafana dashboard: strict JSON, and every metric its queries name
 *     registered in the code or listed in deploy/grafana/planned-metrics.txt.
 *
 * YAML is read with libyaml's document API (JSON is read by it too, after a
 * strict JSON syntax check of our own).  The HTTP settings
 * (<stage>.http_listen) are read from the YAML text rather than the settings
 * struct, so this file does not depend on their C field names.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/featureset.h"
#include "common/settings.h"
#include "scorer/rules.h"
#include "tests/testing.h"

#define DEPLOY_FILE_BYTES_MAX (4 << 20) /* largest deployment file read */
#define DEPLOY_DOCS_MAX       16        /* documents in one YAML file */
#define DEPLOY_FILES_MAX      24        /* files in kustomization.yaml */
#define DEPLOY_PATH_MAX       4096
#define DEPLOY_NAMES_MAX      256 /* metric names in the dashboard or the planned list */
#define DEPLOY_NAME_MAX       128
#define DEPLOY_JSON_DEPTH_MAX 64
#define DEPLOY_STAGES         5

static const char *const deploy_stages[DEPLOY_STAGES] = {"ingest", "velocity", "scorer", "labeler",
                                                         "trainer"};

/* ---- files ---- */

/* The file at FRAUD_SOURCE_ROOT/rel, NUL-terminated; the caller frees it. */
static char *deploy_read(const char *rel, size_t *len) {
        char path[DEPLOY_PATH_MAX];
        FILE *f;
        char *text = malloc(DEPLOY_FILE_BYTES_MAX + 1);
        size_t n;

        ck_assert_ptr_nonnull(text);
        snprintf(path, sizeof(path), "%s/%s", testing_source_root(), rel);
        f = fopen(path, "r");
        ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
        n = fread(text, 1, DEPLOY_FILE_BYTES_MAX + 1, f);
        fclose(f);
        ck_assert_msg(n <= DEPLOY_FILE_BYTES_MAX, "%s: larger than %d bytes", path,
                      DEPLOY_FILE_BYTES_MAX);
        text[n] = '\0';
        if (len)
                *len = n;
        return text;
}

/* ---- YAML documents ---- */

struct deploy_yaml {
        char name[DEPLOY_PATH_MAX];
        yaml_document_t docs[DEPLOY_DOCS_MAX];
        int n;
};

/* Parses every document of text into y; fails the test with NAME:LINE on a
 * syntax error. */
static void deploy_yaml_parse(struct deploy_yaml *y, const char *name, const char *text,
                              size_t len) {
        yaml_parser_t p;

        memset(y, 0, sizeof(*y));
        snprintf(y->name, sizeof(y->name), "%s", name);
        ck_assert(yaml_parser_initialize(&p));
        yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
        for (;;) {
                yaml_document_t *d = &y->docs[y->n];

                ck_assert_msg(y->n < DEPLOY_DOCS_MAX, "%s: more than %d documents", name,
                              DEPLOY_DOCS_MAX);
                ck_assert_msg(yaml_parser_load(&p, d), "%s:%zu: %s", name, p.problem_mark.line + 1,
                              p.problem ? p.problem : "YAML error");
                if (!yaml_document_get_root_node(d)) {
                        yaml_document_delete(d);
                        break;
                }
                y->n++;
        }
        yaml_parser_delete(&p);
}

static void deploy_yaml_load(struct deploy_yaml *y, const char *rel) {
        size_t len;
        char *text = deploy_read(rel, &len);

        deploy_yaml_parse(y, rel, text, len);
        free(text);
}

static void deploy_yaml_free(struct deploy_yaml *y) {
        for (int i = 0; i < y->n; i++)
                yaml_document_delete(&y->docs[i]);
        y->n = 0;
}

/* The value under key in mapping n, or NULL. */
static yaml_node_t *deploy_node_key(yaml_document_t *d, yaml_node_t *n, const char *key) {
        if (!n || n->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);

                if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

/* Follows the keys (NULL-terminated) from n; NULL when one is missing. */
static yaml_node_t *deploy_node_at(yaml_document_t *d, yaml_node_t *n, ...) {
        va_list ap;
        const char *key;

        va_start(ap, n);
        while (n && (key = va_arg(ap, const char *)))
                n = deploy_node_key(d, n, key);
        va_end(ap);
        return n;
}

/* The scalar's text, or NULL for a missing or non-scalar node. */
static const char *deploy_node_str(yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static size_t deploy_seq_len(yaml_node_t *n) {
        if (!n || n->type != YAML_SEQUENCE_NODE)
                return 0;
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *deploy_seq_item(yaml_document_t *d, yaml_node_t *n, size_t i) {
        return i < deploy_seq_len(n) ? yaml_document_get_node(d, n->data.sequence.items.start[i])
                                     : NULL;
}

/* The item of sequence n whose key equals value, or NULL. */
static yaml_node_t *deploy_seq_find(yaml_document_t *d, yaml_node_t *n, const char *key,
                                    const char *value) {
        for (size_t i = 0; i < deploy_seq_len(n); i++) {
                yaml_node_t *it = deploy_seq_item(d, n, i);
                const char *v = deploy_node_str(deploy_node_key(d, it, key));

                if (v && !strcmp(v, value))
                        return it;
        }
        return NULL;
}

/* A scalar as a decimal integer; fails the test otherwise. */
static long deploy_node_long(yaml_node_t *n, const char *what) {
        const char *s = deploy_node_str(n);
        char *end;
        long v;

        ck_assert_msg(s != NULL, "%s: missing", what);
        errno = 0;
        v = strtol(s, &end, 10);
        ck_assert_msg(errno == 0 && end != s && *end == '\0', "%s: '%s' is not an integer", what,
                      s);
        return v;
}

/* ---- the Kubernetes manifests ---- */

/* Every file of kustomization.yaml's resources, parsed. */
struct deploy_k8s {
        struct deploy_yaml kustomization;
        struct deploy_yaml files[DEPLOY_FILES_MAX];
        int n;
};

static void deploy_k8s_load(struct deploy_k8s *k) {
        yaml_document_t *d;
        yaml_node_t *res;

        memset(k, 0, sizeof(*k));
        deploy_yaml_load(&k->kustomization, "deploy/k8s/kustomization.yaml");
        d = &k->kustomization.docs[0];
        res = deploy_node_key(d, yaml_document_get_root_node(d), "resources");
        ck_assert_msg(deploy_seq_len(res) > 0, "kustomization.yaml: no resources");
        for (size_t i = 0; i < deploy_seq_len(res); i++) {
                char rel[DEPLOY_PATH_MAX];
                const char *file = deploy_node_str(deploy_seq_item(d, res, i));

                ck_assert_int_lt(k->n, DEPLOY_FILES_MAX);
                ck_assert_ptr_nonnull(file);
                snprintf(rel, sizeof(rel), "deploy/k8s/%s", file);
                deploy_yaml_load(&k->files[k->n++], rel);
        }
}

static void deploy_k8s_free(struct deploy_k8s *k) {
        deploy_yaml_free(&k->kustomization);
        for (int i = 0; i < k->n; i++)
                deploy_yaml_free(&k->files[i]);
}

/* The resource of kind named name (NULL: the first of kind); *doc is set to
 * its document.  NULL when there is none. */
static yaml_node_t *deploy_k8s_find(struct deploy_k8s *k, const char *kind, const char *name,
                                    yaml_document_t **doc) {
        for (int f = 0; f < k->n; f++)
                for (int i = 0; i < k->files[f].n; i++) {
                        yaml_document_t *d = &k->files[f].docs[i];
                        yaml_node_t *r = yaml_document_get_root_node(d);
                        const char *kd = deploy_node_str(deploy_node_key(d, r, "kind"));
                        const char *nm =
                                deploy_node_str(deploy_node_at(d, r, "metadata", "name", NULL));

                        if (kd && !strcmp(kd, kind) && nm && (!name || !strcmp(nm, name))) {
                                *doc = d;
                                return r;
                        }
                }
        return NULL;
}

/* The workload of a stage: the Deployment or StatefulSet fraud-<stage>. */
static yaml_node_t *deploy_k8s_workload(struct deploy_k8s *k, const char *stage,
                                        yaml_document_t **doc, const char **kind) {
        char name[64];
        yaml_node_t *w;

        snprintf(name, sizeof(name), "fraud-%s", stage);
        *kind = "StatefulSet";
        w = deploy_k8s_find(k, *kind, name, doc);
        if (!w) {
                *kind = "Deployment";
                w = deploy_k8s_find(k, *kind, name, doc);
        }
        ck_assert_msg(w != NULL, "no Deployment or StatefulSet %s in kustomization.yaml", name);
        return w;
}

/* The container named stage in workload w. */
static yaml_node_t *deploy_k8s_container(yaml_document_t *d, yaml_node_t *w, const char *stage) {
        yaml_node_t *cs = deploy_node_at(d, w, "spec", "template", "spec", "containers", NULL);
        yaml_node_t *c = deploy_seq_find(d, cs, "name", stage);

        ck_assert_msg(c != NULL, "fraud-%s: no container named %s", stage, stage);
        return c;
}

/* ---- the configurations ---- */

/* A fraud.yaml: loaded through the settings table as a daemon loads it
 * (without the environment layer), and parsed for keys read by name. */
struct deploy_config {
        struct fraud_settings s;
        struct deploy_yaml y;
};

static void deploy_config_parse(struct deploy_config *c, const char *name, const char *text,
                                size_t len) {
        char err[FRAUD_CONFIG_ERR_MAX] = "";
        int r;

        ck_assert_int_eq(fraud_settings_init(&c->s), 0);
        r = fraud_config_buffer_apply(&fraud_settings_table, &c->s, name, text, len, err,
                                      sizeof(err));
        ck_assert_msg(r == 0, "%s is refused by the settings table: %s", name, err);
        deploy_yaml_parse(&c->y, name, text, len);
        ck_assert_msg(c->y.n == 1, "%s: one document expected", name);
}

static void deploy_config_free(struct deploy_config *c) {
        fraud_settings_release(&c->s);
        deploy_yaml_free(&c->y);
}

/* The ConfigMap fraud-config's data key (a file it holds). */
static yaml_node_t *deploy_configmap_data(struct deploy_k8s *k, const char *key,
                                          yaml_document_t **doc) {
        yaml_node_t *cm = deploy_k8s_find(k, "ConfigMap", "fraud-config", doc);

        ck_assert_msg(cm != NULL, "no ConfigMap fraud-config in kustomization.yaml");
        return deploy_node_at(*doc, cm, "data", key, NULL);
}

static void deploy_config_k8s(struct deploy_k8s *k, struct deploy_config *c) {
        yaml_document_t *d;
        yaml_node_t *n = deploy_configmap_data(k, "fraud.yaml", &d);

        ck_assert_msg(deploy_node_str(n) != NULL, "ConfigMap fraud-config: no fraud.yaml");
        deploy_config_parse(c, "ConfigMap fraud-config fraud.yaml",
                            (const char *)n->data.scalar.value, n->data.scalar.length);
}

static void deploy_config_systemd(struct deploy_config *c) {
        size_t len;
        char *text = deploy_read("deploy/systemd/fraud.yaml", &len);

        deploy_config_parse(c, "deploy/systemd/fraud.yaml", text, len);
        free(text);
}

/* section.key of the file as written (NULL when the file leaves it out). */
static const char *deploy_config_get(struct deploy_config *c, const char *section,
                                     const char *key) {
        yaml_document_t *d = &c->y.docs[0];

        return deploy_node_str(
                deploy_node_at(d, yaml_document_get_root_node(d), section, key, NULL));
}

/* The port of <stage>.http_listen ("host:port"); host copied to host. */
static long deploy_listen_port(struct deploy_config *c, const char *stage, char *host,
                               size_t host_size) {
        const char *listen = deploy_config_get(c, stage, "http_listen");
        const char *colon;
        char *end;
        long port;

        ck_assert_msg(listen != NULL, "%s: %s.http_listen is not set", c->y.name, stage);
        colon = strrchr(listen, ':');
        ck_assert_msg(colon != NULL, "%s: %s.http_listen '%s' has no port", c->y.name, stage,
                      listen);
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        ck_assert_msg(errno == 0 && *end == '\0' && port > 0 && port < 65536,
                      "%s: %s.http_listen '%s': bad port", c->y.name, stage, listen);
        snprintf(host, host_size, "%.*s", (int)(colon - listen), listen);
        return port;
}

/* path is dir or lies below it. */
static bool deploy_path_under(const char *path, const char *dir) {
        size_t n = strlen(dir);

        return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* ---- the tests ---- */

/* Files in deploy/k8s that are YAML but not applied by kustomization.yaml. */
static bool deploy_k8s_not_applied(const char *file) {
        return !strcmp(file, "kustomization.yaml") || !strcmp(file, "secret.example.yaml") ||
               !strcmp(file, "prometheus-pods.yml");
}

static bool deploy_k8s_listed(struct deploy_k8s *k, const char *file) {
        char rel[DEPLOY_PATH_MAX];

        snprintf(rel, sizeof(rel), "deploy/k8s/%s", file);
        for (int i = 0; i < k->n; i++)
                if (!strcmp(k->files[i].name, rel))
                        return true;
        return false;
}

/* Every resource has apiVersion, kind and metadata.name. */
static void deploy_k8s_file_check(struct deploy_yaml *y) {
        for (int i = 0; i < y->n; i++) {
                yaml_document_t *d = &y->docs[i];
                yaml_node_t *r = yaml_document_get_root_node(d);

                ck_assert_msg(
                        deploy_node_str(deploy_node_key(d, r, "apiVersion")) &&
                                deploy_node_str(deploy_node_key(d, r, "kind")) &&
                                deploy_node_str(deploy_node_at(d, r, "metadata", "name", NULL)),
                        "%s: document %d lacks apiVersion, kind or metadata.name", y->name, i + 1);
        }
}

START_TEST(test_deploy_every_manifest_parses_and_kustomization_lists_it) {
        char dir[DEPLOY_PATH_MAX];
        struct deploy_k8s k;
        struct deploy_yaml y;
        struct dirent *e;
        DIR *dp;
        int seen = 0;

        deploy_k8s_load(&k);
        for (int i = 0; i < k.n; i++)
                deploy_k8s_file_check(&k.files[i]);
        snprintf(dir, sizeof(dir), "%s/deploy/k8s", testing_source_root());
        ck_assert_ptr_nonnull(dp = opendir(dir));
        while ((e = readdir(dp))) {
                char rel[DEPLOY_PATH_MAX];
                size_t n = strlen(e->d_name);

                if (!(n > 5 && !strcmp(e->d_name + n - 5, ".yaml")) &&
                    !(n > 4 && !strcmp(e->d_name + n - 4, ".yml")))
                        continue;
                seen++;
                snprintf(rel, sizeof(rel), "deploy/k8s/%s", e->d_name);
                deploy_yaml_load(&y, rel); /* fails on a syntax error */
                if (!strcmp(e->d_name, "secret.example.yaml"))
                        deploy_k8s_file_check(&y);
                deploy_yaml_free(&y);
                ck_assert_msg(deploy_k8s_listed(&k, e->d_name) || deploy_k8s_not_applied(e->d_name),
                              "deploy/k8s/%s is not in kustomization.yaml's resources", e->d_name);
        }
        closedir(dp);
        ck_assert_int_ge(seen, k.n + 3);
        deploy_yaml_load(&y, "deploy/prometheus/prometheus.yml");
        deploy_yaml_free(&y);
        deploy_k8s_free(&k);
}
END_TEST

START_TEST(test_deploy_configs_load_and_give_each_stage_its_own_port) {
        struct deploy_config c[2];
        struct deploy_k8s k;
        char host[256];

        deploy_k8s_load(&k);
        deploy_config_k8s(&k, &c[0]);
        deploy_config_systemd(&c[1]);
        for (int i = 0; i < 2; i++) {
                long ports[DEPLOY_STAGES];

                for (int s = 0; s < DEPLOY_STAGES; s++) {
                        ports[s] = deploy_listen_port(&c[i], deploy_stages[s], host, sizeof(host));
                        for (int t = 0; t < s; t++)
                                ck_assert_msg(ports[t] != ports[s], "%s: %s and %s share port %ld",
                                              c[i].y.name, deploy_stages[t], deploy_stages[s],
                                              ports[s]);
                        /* Pods are reached on their own address; systemd stages on loopback. */
                        ck_assert_msg(!strcmp(host, i == 0 ? "0.0.0.0" : "127.0.0.1"),
                                      "%s: %s.http_listen on '%s'", c[i].y.name, deploy_stages[s],
                                      host);
                }
                ck_assert_msg(c[i].s.kafka.bootstrap_servers[0] != '\0',
                              "%s: kafka.bootstrap_servers empty: the embedded broker",
                              c[i].y.name);
                deploy_config_free(&c[i]);
        }
        deploy_k8s_free(&k);
}
END_TEST

START_TEST(test_deploy_configmap_rules_compile_against_its_feature_schema) {
        static struct fraud_featureset fs;
        const char *names[FRAUD_FEATURESET_FEATURES_MAX];
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        struct expr_schema schema = {names, 0};
        struct deploy_config c;
        struct deploy_k8s k;
        struct rules *rules = NULL;
        yaml_document_t *d;
        yaml_node_t *text;
        char err[512] = "";
        size_t n;

        deploy_k8s_load(&k);
        deploy_config_k8s(&k, &c);
        ck_assert_msg(deploy_path_under(c.s.scorer.rules_file, "/etc/fraud") &&
                              !strcmp(c.s.scorer.rules_file, "/etc/fraud/rules.yaml"),
                      "scorer.rules_file '%s' is not the ConfigMap's rules.yaml at /etc/fraud",
                      c.s.scorer.rules_file);
        text = deploy_configmap_data(&k, "rules.yaml", &d);
        ck_assert_msg(deploy_node_str(text) != NULL, "ConfigMap fraud-config: no rules.yaml");
        ck_assert_int_eq(fraud_featureset_spans_parse(c.s.velocity.window_spans_sec, spans,
                                                      FRAUD_FEATURESET_SPANS_MAX, &n, err,
                                                      sizeof(err)),
                         0);
        ck_assert_int_eq(fraud_featureset_build(spans, n, &fs), 0);
        for (size_t i = 0; i < fs.n; i++)
                names[i] = fs.names[i];
        schema.n_features = fs.n;
        ck_assert_msg(rules_parse("ConfigMap rules.yaml", (const char *)text->data.scalar.value,
                                  text->data.scalar.length, &schema, &rules, err, sizeof(err)) == 0,
                      "%s", err);
        ck_assert_uint_gt(rules_count(rules), 0);
        rules_free(rules);
        deploy_config_free(&c);
        deploy_k8s_free(&k);
}
END_TEST

/* A probe's or Service's port: the number, or the name of container port
 * "http" (whose number was checked). */
static void deploy_port_ref_check(yaml_node_t *n, long port, const char *what) {
        const char *s = deploy_node_str(n);

        ck_assert_msg(s != NULL, "%s: no port", what);
        if (strcmp(s, "http") != 0)
                ck_assert_msg(deploy_node_long(n, what) == port, "%s: port %s, not %ld", what, s,
                              port);
}

static void deploy_probe_check(yaml_document_t *d, yaml_node_t *c, const char *probe,
                               const char *path, long port, const char *stage) {
        char what[128];
        yaml_node_t *get = deploy_node_at(d, c, probe, "httpGet", NULL);
        const char *p = deploy_node_str(deploy_node_key(d, get, "path"));

        snprintf(what, sizeof(what), "fraud-%s %s", stage, probe);
        ck_assert_msg(get != NULL, "%s: no httpGet", what);
        ck_assert_msg(p && !strcmp(p, path), "%s: path %s, not %s", what, p ? p : "(none)", path);
        deploy_port_ref_check(deploy_node_key(d, get, "port"), port, what);
}

/* Container port, probes, scrape annotation and Service of one stage. */
static void deploy_stage_ports_check(struct deploy_k8s *k, const char *stage, long port) {
        yaml_document_t *d, *sd;
        const char *kind;
        yaml_node_t *w = deploy_k8s_workload(k, stage, &d, &kind);
        yaml_node_t *c = deploy_k8s_container(d, w, stage);
        yaml_node_t *cp = deploy_seq_find(d, deploy_node_key(d, c, "ports"), "name", "http");
        yaml_node_t *ann =
                deploy_node_at(d, w, "spec", "template", "metadata", "annotations", NULL);
        char name[64], what[128];
        yaml_node_t *svc, *sp;

        snprintf(what, sizeof(what), "fraud-%s containerPort", stage);
        ck_assert_msg(cp != NULL, "fraud-%s: no container port named http", stage);
        ck_assert_msg(deploy_node_long(deploy_node_key(d, cp, "containerPort"), what) == port,
                      "%s is not the port of %s.http_listen (%ld)", what, stage, port);
        deploy_probe_check(d, c, "livenessProbe", "/healthz", port, stage);
        deploy_probe_check(d, c, "readinessProbe", "/readyz", port, stage);
        if (deploy_node_key(d, c, "startupProbe"))
                deploy_probe_check(d, c, "startupProbe", "/healthz", port, stage);
        snprintf(what, sizeof(what), "fraud-%s annotation prometheus.io/port", stage);
        ck_assert_msg(deploy_node_long(deploy_node_key(d, ann, "prometheus.io/port"), what) == port,
                      "%s is not %ld", what, port);
        snprintf(name, sizeof(name), "fraud-%s", stage);
        svc = deploy_k8s_find(k, "Service", name, &sd);
        ck_assert_msg(svc != NULL, "no Service %s", name);
        sp = deploy_seq_item(sd, deploy_node_at(sd, svc, "spec", "ports", NULL), 0);
        snprintf(what, sizeof(what), "Service %s port", name);
        ck_assert_msg(deploy_node_long(deploy_node_key(sd, sp, "port"), what) == port,
                      "%s is not %ld", what, port);
        snprintf(what, sizeof(what), "Service %s targetPort", name);
        deploy_port_ref_check(deploy_node_key(sd, sp, "targetPort"), port, what);
}

START_TEST(test_deploy_ports_and_probes_follow_http_listen) {
        struct deploy_config c;
        struct deploy_k8s k;
        char host[256];

        deploy_k8s_load(&k);
        deploy_config_k8s(&k, &c);
        for (int s = 0; s < DEPLOY_STAGES; s++)
                deploy_stage_ports_check(
                        &k, deploy_stages[s],
                        deploy_listen_port(&c, deploy_stages[s], host, sizeof(host)));
        deploy_config_free(&c);
        deploy_k8s_free(&k);
}
END_TEST

/* The mount of container c that holds path; its volume in *volume. */
static yaml_node_t *deploy_mount_of(yaml_document_t *d, yaml_node_t *c, const char *path,
                                    const char **volume) {
        yaml_node_t *mounts = deploy_node_key(d, c, "volumeMounts");
        yaml_node_t *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; i < deploy_seq_len(mounts); i++) {
                yaml_node_t *m = deploy_seq_item(d, mounts, i);
                const char *mp = deploy_node_str(deploy_node_key(d, m, "mountPath"));

                if (mp && deploy_path_under(path, mp) && strlen(mp) > best_len) {
                        best = m;
                        best_len = strlen(mp);
                }
        }
        *volume = best ? deploy_node_str(deploy_node_key(d, best, "name")) : NULL;
        return best;
}

static bool deploy_mount_read_only(yaml_document_t *d, yaml_node_t *m) {
        const char *ro = deploy_node_str(deploy_node_key(d, m, "readOnly"));

        return ro && !strcmp(ro, "true");
}

/* The claim behind pod volume name of workload w, or NULL. */
static const char *deploy_volume_claim(yaml_document_t *d, yaml_node_t *w, const char *name) {
        yaml_node_t *vols = deploy_node_at(d, w, "spec", "template", "spec", "volumes", NULL);
        yaml_node_t *v = deploy_seq_find(d, vols, "name", name);

        return deploy_node_str(deploy_node_at(d, v, "persistentVolumeClaim", "claimName", NULL));
}

/* state_dir lies on a writable volume from the StatefulSet's claim template. */
static void deploy_state_volume_check(struct deploy_k8s *k, const char *stage, const char *dir) {
        yaml_document_t *d;
        const char *kind, *volume;
        yaml_node_t *w = deploy_k8s_workload(k, stage, &d, &kind);
        yaml_node_t *m = deploy_mount_of(d, deploy_k8s_container(d, w, stage), dir, &volume);
        yaml_node_t *tpl = deploy_node_at(d, w, "spec", "volumeClaimTemplates", NULL);
        const char *claim = NULL;

        for (size_t i = 0; i < deploy_seq_len(tpl) && volume; i++) {
                const char *name = deploy_node_str(
                        deploy_node_at(d, deploy_seq_item(d, tpl, i), "metadata", "name", NULL));

                if (name && !strcmp(name, volume))
                        claim = name;
        }
        ck_assert_msg(!strcmp(kind, "StatefulSet"), "fraud-%s keeps RocksDB: a StatefulSet", stage);
        ck_assert_msg(m != NULL, "fraud-%s: nothing mounted at %s.state_dir %s", stage, stage, dir);
        ck_assert_msg(!deploy_mount_read_only(d, m), "fraud-%s: %s is read-only", stage, dir);
        ck_assert_msg(claim != NULL, "fraud-%s: %s is on volume %s, not a claim template's", stage,
                      dir, volume ? volume : "(none)");
}

/* registry_dir: the same ReadWriteMany claim in the trainer (writable) and
 * the scorer (read-only), mounted where the config says. */
static void deploy_registry_check(struct deploy_k8s *k, const char *dir) {
        const char *claim[2], *volume, *kind, *stage[2] = {"trainer", "scorer"};
        yaml_document_t *d, *pd;
        yaml_node_t *pvc, *modes;

        for (int i = 0; i < 2; i++) {
                yaml_node_t *w = deploy_k8s_workload(k, stage[i], &d, &kind);
                yaml_node_t *m =
                        deploy_mount_of(d, deploy_k8s_container(d, w, stage[i]), dir, &volume);

                ck_assert_msg(m != NULL, "fraud-%s: trainer.registry_dir %s not mounted", stage[i],
                              dir);
                ck_assert_msg(deploy_mount_read_only(d, m) == (i == 1),
                              "fraud-%s: registry must be %s", stage[i],
                              i ? "read-only" : "writable");
                claim[i] = deploy_volume_claim(d, w, volume);
                ck_assert_msg(claim[i] != NULL, "fraud-%s: registry volume is not a claim",
                              stage[i]);
        }
        ck_assert_msg(!strcmp(claim[0], claim[1]), "trainer and scorer mount claims %s and %s",
                      claim[0], claim[1]);
        pvc = deploy_k8s_find(k, "PersistentVolumeClaim", claim[0], &pd);
        ck_assert_msg(pvc != NULL, "no PersistentVolumeClaim %s", claim[0]);
        modes = deploy_node_at(pd, pvc, "spec", "accessModes", NULL);
        ck_assert_msg(
                deploy_seq_len(modes) == 1 &&
                        !strcmp(deploy_node_str(deploy_seq_item(pd, modes, 0)), "ReadWriteMany"),
                "%s: the scorers on other nodes need ReadWriteMany", claim[0]);
}

/* The config file, rules and CA are mounted from the ConfigMap and the
 * Secret where the command and the config name them. */
static void deploy_config_mounts_check(struct deploy_k8s *k, struct deploy_config *c,
                                       const char *stage) {
        yaml_document_t *d, *cd;
        const char *kind, *volume, *source;
        yaml_node_t *w = deploy_k8s_workload(k, stage, &d, &kind);
        yaml_node_t *ctr = deploy_k8s_container(d, w, stage);
        yaml_node_t *cmd = deploy_node_key(d, ctr, "command");
        yaml_node_t *vols = deploy_node_at(d, w, "spec", "template", "spec", "volumes", NULL);
        const char *config = deploy_node_str(deploy_seq_item(d, cmd, 2));
        yaml_node_t *m;

        ck_assert_msg(deploy_seq_len(cmd) == 3 &&
                              !strcmp(deploy_node_str(deploy_seq_item(d, cmd, 1)), "--config"),
                      "fraud-%s: command is not [binary, --config, FILE]", stage);
        m = deploy_mount_of(d, ctr, config, &volume);
        ck_assert_msg(m != NULL, "fraud-%s: %s is not mounted", stage, config);
        source = deploy_node_str(deploy_node_at(d, deploy_seq_find(d, vols, "name", volume),
                                                "configMap", "name", NULL));
        ck_assert_msg(source && !strcmp(source, "fraud-config"),
                      "fraud-%s: %s is not from the ConfigMap fraud-config", stage, config);
        ck_assert_msg(deploy_configmap_data(k, strrchr(config, '/') + 1, &cd) != NULL,
                      "ConfigMap fraud-config has no %s", strrchr(config, '/') + 1);
        if (!strcmp(stage, "scorer"))
                ck_assert_msg(
                        deploy_mount_of(d, ctr, c->s.scorer.rules_file, &volume) &&
                                !strcmp(volume, deploy_node_str(deploy_node_key(d, m, "name"))),
                        "fraud-scorer: scorer.rules_file is not in the ConfigMap mount");
        if (c->s.kafka.ssl_ca_location[0]) {
                m = deploy_mount_of(d, ctr, c->s.kafka.ssl_ca_location, &volume);
                ck_assert_msg(m != NULL &&
                                      deploy_node_at(d, deploy_seq_find(d, vols, "name", volume),
                                                     "secret", NULL),
                              "fraud-%s: kafka.ssl_ca_location %s is not from a Secret", stage,
                              c->s.kafka.ssl_ca_location);
        }
}

START_TEST(test_deploy_volumes_are_mounted_where_the_config_points) {
        struct deploy_config c;
        struct deploy_k8s k;

        deploy_k8s_load(&k);
        deploy_config_k8s(&k, &c);
        deploy_state_volume_check(&k, "ingest", c.s.ingest.state_dir);
        deploy_state_volume_check(&k, "velocity", c.s.velocity.state_dir);
        deploy_state_volume_check(&k, "labeler", c.s.labeler.state_dir);
        deploy_state_volume_check(&k, "trainer", c.s.trainer.state_dir);
        deploy_registry_check(&k, c.s.trainer.registry_dir);
        for (int s = 0; s < DEPLOY_STAGES; s++)
                deploy_config_mounts_check(&k, &c, deploy_stages[s]);
        deploy_config_free(&c);
        deploy_k8s_free(&k);
}
END_TEST

static void deploy_bool_check(yaml_document_t *d, yaml_node_t *n, const char *key, bool want,
                              const char *what) {
        const char *v = deploy_node_str(deploy_node_key(d, n, key));

        ck_assert_msg(v && !strcmp(v, want ? "true" : "false"), "%s: %s must be %s", what, key,
                      want ? "true" : "false");
}

/* Non-root, no escalation, no capabilities, RuntimeDefault seccomp, a
 * read-only root, and requests and limits, for every container. */
static long deploy_pod_security_check(yaml_document_t *d, yaml_node_t *w, const char *name) {
        yaml_node_t *pod = deploy_node_at(d, w, "spec", "template", "spec", NULL);
        yaml_node_t *psc = deploy_node_key(d, pod, "securityContext");
        yaml_node_t *cs = deploy_node_key(d, pod, "containers");
        const char *sec = deploy_node_str(deploy_node_at(d, psc, "seccompProfile", "type", NULL));
        long uid = deploy_node_long(deploy_node_key(d, psc, "runAsUser"), name);

        deploy_bool_check(d, psc, "runAsNonRoot", true, name);
        ck_assert_msg(uid > 0, "%s: runAsUser %ld", name, uid);
        ck_assert_msg(sec && !strcmp(sec, "RuntimeDefault"), "%s: seccompProfile", name);
        ck_assert_msg(deploy_seq_len(cs) > 0, "%s: no containers", name);
        for (size_t i = 0; i < deploy_seq_len(cs); i++) {
                yaml_node_t *c = deploy_seq_item(d, cs, i);
                yaml_node_t *csc = deploy_node_key(d, c, "securityContext");
                yaml_node_t *drop = deploy_node_at(d, csc, "capabilities", "drop", NULL);
                const char *what[] = {"requests", "limits"}, *res[] = {"cpu", "memory"};

                deploy_bool_check(d, csc, "allowPrivilegeEscalation", false, name);
                deploy_bool_check(d, csc, "readOnlyRootFilesystem", true, name);
                ck_assert_msg(deploy_seq_len(drop) == 1 &&
                                      !strcmp(deploy_node_str(deploy_seq_item(d, drop, 0)), "ALL"),
                              "%s: capabilities.drop must be [ALL]", name);
                for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                                ck_assert_msg(deploy_node_str(deploy_node_at(
                                                      d, c, "resources", what[a], res[b], NULL)),
                                              "%s: no resources.%s.%s", name, what[a], res[b]);
        }
        return uid;
}

/* The uid of the Dockerfile's USER (numeric). */
static long deploy_dockerfile_uid(void);

START_TEST(test_deploy_pods_run_unprivileged_with_resources) {
        struct deploy_k8s k;
        long image_uid = deploy_dockerfile_uid();

        deploy_k8s_load(&k);
        for (int s = 0; s < DEPLOY_STAGES; s++) {
                yaml_document_t *d;
                const char *kind;
                char name[64];
                yaml_node_t *w = deploy_k8s_workload(&k, deploy_stages[s], &d, &kind);

                snprintf(name, sizeof(name), "%s fraud-%s", kind, deploy_stages[s]);
                ck_assert_msg(deploy_pod_security_check(d, w, name) == image_uid,
                              "%s: runAsUser is not the image's USER %ld", name, image_uid);
        }
        deploy_k8s_free(&k);
}
END_TEST

/* The KafkaTopic whose spec.topicName is topic, or NULL. */
static yaml_node_t *deploy_topic_find(struct deploy_k8s *k, const char *topic,
                                      yaml_document_t **doc) {
        for (int f = 0; f < k->n; f++)
                for (int i = 0; i < k->files[f].n; i++) {
                        yaml_document_t *d = &k->files[f].docs[i];
                        yaml_node_t *r = yaml_document_get_root_node(d);
                        const char *kind = deploy_node_str(deploy_node_key(d, r, "kind"));
                        const char *t =
                                deploy_node_str(deploy_node_at(d, r, "spec", "topicName", NULL));

                        if (kind && !strcmp(kind, "KafkaTopic") && t && !strcmp(t, topic)) {
                                *doc = d;
                                return r;
                        }
                }
        return NULL;
}

static int deploy_topics_count(struct deploy_k8s *k) {
        int n = 0;

        for (int f = 0; f < k->n; f++)
                for (int i = 0; i < k->files[f].n; i++) {
                        yaml_document_t *d = &k->files[f].docs[i];
                        const char *kind = deploy_node_str(
                                deploy_node_key(d, yaml_document_get_root_node(d), "kind"));

                        n += kind && !strcmp(kind, "KafkaTopic");
                }
        return n;
}

/* One topic's KafkaTopic: partitions, replication, retention or compaction. */
static void deploy_topic_check(struct deploy_k8s *k, const char *topic, bool models) {
        yaml_document_t *d = NULL;
        yaml_node_t *t = deploy_topic_find(k, topic, &d);
        yaml_node_t *spec, *cfg;
        const char *policy;
        bool compact;
        long partitions;

        ck_assert_msg(t != NULL, "no KafkaTopic for topic %s", topic);
        spec = deploy_node_key(d, t, "spec");
        cfg = deploy_node_key(d, spec, "config");
        policy = deploy_node_str(deploy_node_key(d, cfg, "cleanup.policy"));
        compact = policy && !strcmp(policy, "compact");
        partitions = deploy_node_long(deploy_node_key(d, spec, "partitions"), topic);
        ck_assert_msg(partitions >= 1, "%s: partitions", topic);
        ck_assert_msg(
                deploy_node_long(deploy_node_key(d, spec, "replicas"), topic) >
                        deploy_node_long(deploy_node_key(d, cfg, "min.insync.replicas"), topic),
                "%s: min.insync.replicas must be below replicas", topic);
        ck_assert_msg(compact == models, "%s: %s", topic,
                      models ? "the models topic must be compacted"
                             : "only the models topic is compacted");
        ck_assert_msg(compact || deploy_node_key(d, cfg, "retention.ms"), "%s: no retention.ms",
                      topic);
        ck_assert_msg(!models || partitions == 1,
                      "%s: one partition keeps the announcements in order", topic);
}

START_TEST(test_deploy_kafka_topics_are_the_configured_topics) {
        struct deploy_config c;
        struct deploy_k8s k;
        int n;

        deploy_k8s_load(&k);
        deploy_config_k8s(&k, &c);
        const char *topics[] = {c.s.topics.raw,    c.s.topics.normalized,    c.s.topics.features,
                                c.s.topics.scores, c.s.topics.scores_shadow, c.s.topics.chargebacks,
                                c.s.topics.labels, c.s.topics.models,        c.s.topics.dlq};

        n = (int)(sizeof(topics) / sizeof(topics[0]));
        for (int i = 0; i < n; i++)
                deploy_topic_check(&k, topics[i], !strcmp(topics[i], c.s.topics.models));
        ck_assert_msg(deploy_topics_count(&k) == n, "%d KafkaTopics for %d configured topics",
                      deploy_topics_count(&k), n);
        deploy_config_free(&c);
        deploy_k8s_free(&k);
}
END_TEST

/* ---- the Dockerfile ---- */

#define DEPLOY_WORDS_MAX 32

/* Splits line at blanks into at most max words (NULs written into line). */
static int deploy_words_split(char *line, char **words, int max) {
        char *p = line;
        int n = 0;

        while (n < max) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                words[n++] = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                if (*p)
                        *p++ = '\0';
        }
        return n;
}

/* The logical lines of the Dockerfile (continuations joined) that start
 * with instruction, split into words: calls fn for each. */
static void deploy_dockerfile_each(const char *instruction,
                                   void (*fn)(char **words, int n, void *arg), void *arg) {
        char *text = deploy_read("Dockerfile", NULL);
        char *line = text, *next;

        for (char *p = text; (p = strstr(p, "\\\n"));) /* join continuations */
                p[0] = p[1] = ' ';
        for (; line && *line; line = next) {
                char *words[DEPLOY_WORDS_MAX];
                int n;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                n = deploy_words_split(line, words, DEPLOY_WORDS_MAX);
                if (n > 0 && !strcmp(words[0], instruction))
                        fn(words, n, arg);
        }
        free(text);
}

static void deploy_user_take(char **words, int n, void *arg) {
        char *end;

        ck_assert_msg(n == 2, "Dockerfile: USER takes one uid:gid");
        *(long *)arg = strtol(words[1], &end, 10);
        ck_assert_msg(end != words[1] && (*end == ':' || *end == '\0'),
                      "Dockerfile: USER %s is not numeric (runAsNonRoot needs a number)", words[1]);
}

static long deploy_dockerfile_uid(void) {
        long uid = -1;

        deploy_dockerfile_each("USER", deploy_user_take, &uid);
        ck_assert_msg(uid > 0, "Dockerfile: no USER, or root");
        return uid;
}

struct deploy_copied {
        char names[DEPLOY_WORDS_MAX][DEPLOY_NAME_MAX]; /* basenames in /usr/local/bin */
        int n;
};

/* COPY --from=build /src/build/X... /usr/local/bin/: each X is built here. */
static void deploy_copy_take(char **words, int n, void *arg) {
        struct deploy_copied *c = arg;

        if (n < 4 || strcmp(words[1], "--from=build") != 0)
                return;
        ck_assert_msg(!strcmp(words[n - 1], "/usr/local/bin/"),
                      "Dockerfile: binaries go to /usr/local/bin/, not %s", words[n - 1]);
        for (int i = 2; i < n - 1; i++) {
                char path[DEPLOY_PATH_MAX];

                ck_assert_msg(!strncmp(words[i], "/src/build/", 11),
                              "Dockerfile: %s is not under the builder's /src/build/", words[i]);
                snprintf(path, sizeof(path), "%s/%s", getenv("FRAUD_BUILD_ROOT"), words[i] + 11);
                ck_assert_msg(access(path, X_OK) == 0,
                              "Dockerfile copies %s, which this build does not make (%s)", words[i],
                              path);
                ck_assert_int_lt(c->n, DEPLOY_WORDS_MAX);
                snprintf(c->names[c->n++], DEPLOY_NAME_MAX, "%s", strrchr(words[i], '/') + 1);
        }
}

struct deploy_exposed {
        long ports[DEPLOY_WORDS_MAX];
        int n;
};

static void deploy_expose_take(char **words, int n, void *arg) {
        struct deploy_exposed *e = arg;

        for (int i = 1; i < n && e->n < DEPLOY_WORDS_MAX; i++)
                e->ports[e->n++] = strtol(words[i], NULL, 10);
}

START_TEST(test_deploy_dockerfile_copies_built_binaries_and_exposes_ports) {
        struct deploy_copied copied = {.n = 0};
        struct deploy_exposed exposed = {.n = 0};
        struct deploy_config c;
        struct deploy_k8s k;
        char host[256];

        ck_assert_ptr_nonnull(getenv("FRAUD_BUILD_ROOT"));
        deploy_dockerfile_each("COPY", deploy_copy_take, &copied);
        deploy_dockerfile_each("EXPOSE", deploy_expose_take, &exposed);
        deploy_k8s_load(&k);
        deploy_config_k8s(&k, &c);
        ck_assert_int_eq(exposed.n, DEPLOY_STAGES);
        for (int s = 0; s < DEPLOY_STAGES; s++) {
                yaml_document_t *d;
                const char *kind, *bin;
                yaml_node_t *w = deploy_k8s_workload(&k, deploy_stages[s], &d, &kind);
                yaml_node_t *cmd =
                        deploy_node_key(d, deploy_k8s_container(d, w, deploy_stages[s]), "command");
                bool found = false;

                bin = deploy_node_str(deploy_seq_item(d, cmd, 0));
                ck_assert_msg(bin && !strncmp(bin, "/usr/local/bin/", 15),
                              "fraud-%s: command[0] is not in /usr/local/bin/", deploy_stages[s]);
                for (int i = 0; i < copied.n; i++)
                        found = found || !strcmp(copied.names[i], bin + 15);
                ck_assert_msg(found, "fraud-%s runs %s, which the Dockerfile does not copy",
                              deploy_stages[s], bin);
                ck_assert_msg(exposed.ports[s] ==
                                      deploy_listen_port(&c, deploy_stages[s], host, sizeof(host)),
                              "Dockerfile: EXPOSE's port %d (%ld) is not %s.http_listen's", s + 1,
                              exposed.ports[s], deploy_stages[s]);
        }
        deploy_config_free(&c);
        deploy_k8s_free(&k);
}
END_TEST

/* ---- the systemd units ---- */

/* The value of the last "key=" line of a unit (NULL: none), copied to out. */
static const char *deploy_unit_value(const char *unit, const char *key, char *out, size_t size) {
        size_t n = strlen(key);
        const char *found = NULL;

        for (const char *l = unit; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (!strncmp(l, key, n) && l[n] == '=')
                        found = l + n + 1;
        if (!found)
                return NULL;
        snprintf(out, size, "%.*s", (int)strcspn(found, "\n"), found);
        return out;
}

/* The unit has this exact line. */
static bool deploy_unit_has_line(const char *unit, const char *line) {
        size_t n = strlen(line);

        for (const char *l = unit; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (!strncmp(l, line, n) && (l[n] == '\n' || l[n] == '\0'))
                        return true;
        return false;
}

/* A unit's time span in seconds ("30s", "10min", "1h", "90"). */
static long deploy_unit_seconds(const char *v, const char *what) {
        char *end;
        long n = strtol(v, &end, 10);

        if (!strcmp(end, "") || !strcmp(end, "s"))
                return n;
        if (!strcmp(end, "min"))
                return n * 60;
        ck_assert_msg(!strcmp(end, "h"), "%s: time span '%s' not understood here", what, v);
        return n * 3600;
}

/* Lines every stage unit has, exactly. */
static const char *const deploy_unit_lines[] = {
        "Type=notify",
        "NotifyAccess=main",
        "User=fraud",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "Restart=on-failure",
        "EnvironmentFile=-/etc/fraud/fraud.env",
        "After=network-online.target",
        "PartOf=fraud.target",
        "WantedBy=fraud.target",
};

/* Keys every stage unit sets, to any value. */
static const char *const deploy_unit_keys[] = {"WatchdogSec", "RestartSec", "StartLimitBurst",
                                               "StartLimitIntervalSec", "MemoryMax"};

/* dir lies in one of the unit's StateDirectory= entries (/var/lib/ENTRY). */
static bool deploy_unit_state_covers(const char *unit, const char *dir) {
        char value[512], *words[DEPLOY_WORDS_MAX];
        int n;

        if (!deploy_unit_value(unit, "StateDirectory", value, sizeof(value)))
                return false;
        n = deploy_words_split(value, words, DEPLOY_WORDS_MAX);
        for (int i = 0; i < n; i++) {
                char path[DEPLOY_PATH_MAX];

                snprintf(path, sizeof(path), "/var/lib/%s", words[i]);
                if (deploy_path_under(dir, path))
                        return true;
        }
        return false;
}

static void deploy_unit_check(struct deploy_config *c, const char *stage, const char *state_dir) {
        char rel[DEPLOY_PATH_MAX], want[256], v[512];
        char *unit;

        snprintf(rel, sizeof(rel), "deploy/systemd/fraud-%s.service", stage);
        unit = deploy_read(rel, NULL);
        for (size_t i = 0; i < sizeof(deploy_unit_lines) / sizeof(deploy_unit_lines[0]); i++)
                ck_assert_msg(deploy_unit_has_line(unit, deploy_unit_lines[i]), "%s: no line %s",
                              rel, deploy_unit_lines[i]);
        for (size_t i = 0; i < sizeof(deploy_unit_keys) / sizeof(deploy_unit_keys[0]); i++)
                ck_assert_msg(deploy_unit_value(unit, deploy_unit_keys[i], v, sizeof(v)) && v[0],
                              "%s: %s= is not set", rel, deploy_unit_keys[i]);
        snprintf(want, sizeof(want), "/usr/bin/fraud-%s --config /etc/fraud/fraud.yaml", stage);
        ck_assert_msg(deploy_unit_value(unit, "ExecStart", v, sizeof(v)) && !strcmp(v, want),
                      "%s: ExecStart is not %s", rel, want);
        if (state_dir)
                ck_assert_msg(deploy_unit_state_covers(unit, state_dir),
                              "%s: %s.state_dir %s is not in its StateDirectory=", rel, stage,
                              state_dir);
        else
                ck_assert_msg(!deploy_unit_value(unit, "StateDirectory", v, sizeof(v)),
                              "%s: a stateless stage with a StateDirectory=", rel);
        if (!strcmp(stage, "trainer")) {
                ck_assert_msg(deploy_unit_state_covers(unit, c->s.trainer.registry_dir),
                              "%s: trainer.registry_dir is not in its StateDirectory=", rel);
                ck_assert_msg(deploy_unit_value(unit, "Nice", v, sizeof(v)) &&
                                      strtol(v, NULL, 10) == c->s.trainer.nice,
                              "%s: Nice= is not trainer.nice (%lld)", rel,
                              (long long)c->s.trainer.nice);
                deploy_unit_value(unit, "WatchdogSec", v, sizeof(v));
                ck_assert_msg(deploy_unit_seconds(v, rel) > c->s.trainer.round_max_sec,
                              "%s: WatchdogSec=%s would kill a round of trainer.round_max_sec", rel,
                              v);
                ck_assert_msg(deploy_unit_value(unit, "CPUQuota", v, sizeof(v)) != NULL,
                              "%s: no CPUQuota=", rel);
        }
        free(unit);
}

START_TEST(test_deploy_systemd_units_match_their_config) {
        struct deploy_config c;

        deploy_config_systemd(&c);
        deploy_unit_check(&c, "ingest", c.s.ingest.state_dir);
        deploy_unit_check(&c, "velocity", c.s.velocity.state_dir);
        deploy_unit_check(&c, "scorer", NULL);
        deploy_unit_check(&c, "labeler", c.s.labeler.state_dir);
        deploy_unit_check(&c, "trainer", c.s.trainer.state_dir);
        ck_assert_msg(!strcmp(c.s.scorer.rules_file, "/etc/fraud/rules.yaml"),
                      "deploy/systemd/fraud.yaml: scorer.rules_file is not /etc/fraud/rules.yaml");
        deploy_config_free(&c);
}
END_TEST

/* ---- Prometheus ---- */

START_TEST(test_deploy_prometheus_targets_are_the_http_listen_addresses) {
        struct deploy_config c;
        struct deploy_yaml y;
        yaml_document_t *d;
        yaml_node_t *jobs, *statics;
        char host[256];

        deploy_config_systemd(&c);
        deploy_yaml_load(&y, "deploy/prometheus/prometheus.yml");
        d = &y.docs[0];
        jobs = deploy_node_key(d, yaml_document_get_root_node(d), "scrape_configs");
        statics = deploy_node_key(d, deploy_seq_item(d, jobs, 0), "static_configs");
        ck_assert_uint_eq(deploy_seq_len(statics), DEPLOY_STAGES);
        for (int s = 0; s < DEPLOY_STAGES; s++) {
                yaml_node_t *sc = NULL;
                const char *target;

                for (size_t i = 0; i < deploy_seq_len(statics) && !sc; i++) {
                        yaml_node_t *it = deploy_seq_item(d, statics, i);
                        const char *st =
                                deploy_node_str(deploy_node_at(d, it, "labels", "stage", NULL));

                        if (st && !strcmp(st, deploy_stages[s]))
                                sc = it;
                }
                ck_assert_msg(sc != NULL, "prometheus.yml: no target with stage %s",
                              deploy_stages[s]);
                target = deploy_node_str(deploy_seq_item(d, deploy_node_key(d, sc, "targets"), 0));
                deploy_listen_port(&c, deploy_stages[s], host, sizeof(host));
                ck_assert_msg(target && !strcmp(target, deploy_config_get(&c, deploy_stages[s],
                                                                          "http_listen")),
                              "prometheus.yml: %s target %s is not %s.http_listen",
                              deploy_stages[s], target ? target : "(none)", deploy_stages[s]);
        }
        deploy_yaml_free(&y);
        deploy_config_free(&c);
}
END_TEST

START_TEST(test_deploy_pod_scrape_job_reads_the_pods_annotations) {
        struct deploy_k8s k;
        struct deploy_yaml y;
        yaml_document_t *d, *kd;
        yaml_node_t *job, *sd, *relabel;
        const char *ns, *names;
        bool port_used = false;

        deploy_k8s_load(&k);
        kd = &k.kustomization.docs[0];
        ns = deploy_node_str(deploy_node_key(kd, yaml_document_get_root_node(kd), "namespace"));
        deploy_yaml_load(&y, "deploy/k8s/prometheus-pods.yml");
        d = &y.docs[0];
        job = deploy_seq_item(
                d, deploy_node_key(d, yaml_document_get_root_node(d), "scrape_configs"), 0);
        sd = deploy_seq_item(d, deploy_node_key(d, job, "kubernetes_sd_configs"), 0);
        ck_assert_str_eq(deploy_node_str(deploy_node_key(d, sd, "role")), "pod");
        names = deploy_node_str(
                deploy_seq_item(d, deploy_node_at(d, sd, "namespaces", "names", NULL), 0));
        ck_assert_msg(ns && names && !strcmp(ns, names),
                      "prometheus-pods.yml watches namespace %s, the pods are in %s",
                      names ? names : "(none)", ns ? ns : "(none)");
        relabel = deploy_node_key(d, job, "relabel_configs");
        for (size_t i = 0; i < deploy_seq_len(relabel); i++) {
                yaml_node_t *src =
                        deploy_node_key(d, deploy_seq_item(d, relabel, i), "source_labels");

                for (size_t j = 0; j < deploy_seq_len(src); j++)
                        port_used = port_used ||
                                    !strcmp(deploy_node_str(deploy_seq_item(d, src, j)),
                                            "__meta_kubernetes_pod_annotation_prometheus_io_port");
        }
        ck_assert_msg(port_used, "prometheus-pods.yml ignores the prometheus.io/port annotation");
        deploy_yaml_free(&y);
        deploy_k8s_free(&k);
}
END_TEST

/* ---- the Grafana dashboard ---- */

/* A strict JSON syntax check (RFC 8259): libyaml would also take YAML's
 * flow style (trailing commas, unquoted words), which Grafana refuses. */
struct deploy_json {
        const char *p;
        int line;
};

static void deploy_json_ws(struct deploy_json *j) {
        for (; *j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'; j->p++)
                j->line += *j->p == '\n';
}

static bool deploy_json_string(struct deploy_json *j) {
        if (*j->p++ != '"')
                return false;
        for (;;) {
                unsigned char ch = (unsigned char)*j->p++;

                if (ch == '"')
                        return true;
                if (ch < 0x20)
                        return false; /* control characters, and the end of the text */
                if (ch != '\\')
                        continue;
                ch = (unsigned char)*j->p++;
                if (ch == 'u') {
                        for (int i = 0; i < 4; i++, j->p++)
                                if (!strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
                                        return false;
                } else if (!ch || !strchr("\"\\/bfnrt", ch)) {
                        return false;
                }
        }
}

static bool deploy_json_digits(struct deploy_json *j) {
        const char *start = j->p;

        while (*j->p >= '0' && *j->p <= '9')
                j->p++;
        return j->p > start;
}

static bool deploy_json_number(struct deploy_json *j) {
        if (*j->p == '-')
                j->p++;
        if (*j->p == '0')
                j->p++;
        else if (!deploy_json_digits(j))
                return false;
        if (*j->p == '.' && (j->p++, !deploy_json_digits(j)))
                return false;
        if (*j->p == 'e' || *j->p == 'E') {
                j->p++;
                if (*j->p == '+' || *j->p == '-')
                        j->p++;
                return deploy_json_digits(j);
        }
        return true;
}

static bool deploy_json_value(struct deploy_json *j, int depth);

/* An object or an array, after its opening bracket. */
static bool deploy_json_container(struct deploy_json *j, int depth, bool object) {
        const char close = object ? '}' : ']';

        deploy_json_ws(j);
        if (*j->p == close) {
                j->p++;
                return true;
        }
        for (;;) {
                deploy_json_ws(j);
                if (object) {
                        if (!deploy_json_string(j))
                                return false;
                        deploy_json_ws(j);
                        if (*j->p++ != ':')
                                return false;
                }
                if (!deploy_json_value(j, depth + 1))
                        return false;
                deploy_json_ws(j);
                if (*j->p == ',') {
                        j->p++;
                        continue;
                }
                return *j->p++ == close;
        }
}

static bool deploy_json_value(struct deploy_json *j, int depth) {
        static const char *const words[] = {"true", "false", "null"};

        if (depth > DEPLOY_JSON_DEPTH_MAX)
                return false;
        deploy_json_ws(j);
        if (*j->p == '{' || *j->p == '[')
                return deploy_json_container(j, depth, *j->p++ == '{');
        if (*j->p == '"')
                return deploy_json_string(j);
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (!strncmp(j->p, words[i], strlen(words[i]))) {
                        j->p += strlen(words[i]);
                        return true;
                }
        return deploy_json_number(j);
}

/* 0, or the line of the first syntax error. */
static int deploy_json_check(const char *text) {
        struct deploy_json j = {text, 1};
        bool ok = deploy_json_value(&j, 0);

        deploy_json_ws(&j);
        return ok && *j.p == '\0' ? 0 : j.line;
}

/* Metric names: a list of unique names. */
struct deploy_names {
        char names[DEPLOY_NAMES_MAX][DEPLOY_NAME_MAX];
        int n;
};

static bool deploy_names_has(const struct deploy_names *s, const char *name) {
        for (int i = 0; i < s->n; i++)
                if (!strcmp(s->names[i], name))
                        return true;
        return false;
}

/* name, or a histogram's name without _bucket/_sum/_count, is in s or (s
 * NULL) appears as a string literal in the daemons' code. */
static bool deploy_code_has(const char *quoted);

static bool deploy_metric_known(const struct deploy_names *s, const char *name) {
        static const char *const suffixes[] = {"", "_bucket", "_sum", "_count"};
        size_t n = strlen(name);

        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                size_t k = strlen(suffixes[i]);
                char base[DEPLOY_NAME_MAX + 2];

                if (n <= k || strcmp(name + n - k, suffixes[i]) != 0)
                        continue;
                snprintf(base, sizeof(base), s ? "%.*s" : "\"%.*s\"", (int)(n - k), name);
                if (s ? deploy_names_has(s, base) : deploy_code_has(base))
                        return true;
        }
        return false;
}

static void deploy_names_add(struct deploy_names *s, const char *name, size_t len) {
        char n[DEPLOY_NAME_MAX];

        ck_assert_msg(len < DEPLOY_NAME_MAX, "metric name too long");
        snprintf(n, sizeof(n), "%.*s", (int)len, name);
        if (deploy_names_has(s, n))
                return;
        ck_assert_int_lt(s->n, DEPLOY_NAMES_MAX);
        memcpy(s->names[s->n++], n, len + 1);
}

static bool deploy_promql_ident(char ch, bool first) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
               (!first && ch >= '0' && ch <= '9');
}

/* Past the quoted string at p (escapes skipped). */
static const char *deploy_promql_string_skip(const char *p) {
        const char q = *p;

        for (p++; *p && *p != q; p++)
                p += *p == '\\' && p[1];
        return *p ? p + 1 : p;
}

/* Past the bracketed group at p (open and close), strings skipped. */
static const char *deploy_promql_skip(const char *p, char open, char close) {
        int depth = 0;

        for (; *p; p++) {
                if (*p == '"' || *p == '\'') {
                        p = deploy_promql_string_skip(p) - 1;
                } else if (*p == open) {
                        depth++;
                } else if (*p == close && --depth == 0) {
                        return p + 1;
                }
        }
        return p;
}

/* Whether word (len bytes) is a PromQL keyword, not a metric; *grouping
 * when a parenthesised label list follows it. */
static bool deploy_promql_keyword(const char *word, size_t len, bool *grouping) {
        static const char *const groups[] = {"by",       "without",    "on",
                                             "ignoring", "group_left", "group_right"};
        static const char *const others[] = {"bool", "offset", "and", "or", "unless", "inf", "nan"};

        *grouping = false;
        for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
                if (strlen(groups[i]) == len && !strncmp(word, groups[i], len))
                        return (*grouping = true);
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
                if (strlen(others[i]) == len && !strncmp(word, others[i], len))
                        return true;
        return false;
}

/* Adds the metric names of a PromQL expression to out: identifiers that
 * are not functions (followed by '('), keywords, label names (inside {}
 * or a by/without list), durations or Grafana variables ($name). */
static void deploy_promql_metrics(const char *expr, struct deploy_names *out) {
        const char *p = expr;

        while (*p) {
                if (*p == '"' || *p == '\'') {
                        p = deploy_promql_string_skip(p);
                } else if (*p == '{' || *p == '[') {
                        p = *p == '[' ? deploy_promql_skip(p, '[', ']')
                                      : deploy_promql_skip(p, '{', '}');
                } else if (*p == '$') {
                        for (p++; deploy_promql_ident(*p, false) || *p == '{' || *p == '}'; p++)
                                ;
                } else if (*p >= '0' && *p <= '9') {
                        while (deploy_promql_ident(*p, false) || *p == '.')
                                p++;
                } else if (deploy_promql_ident(*p, true)) {
                        const char *word = p, *after;
                        bool grouping;

                        while (deploy_promql_ident(*p, false))
                                p++;
                        for (after = p; *after == ' '; after++)
                                ;
                        if (deploy_promql_keyword(word, (size_t)(p - word), &grouping)) {
                                if (grouping && *after == '(')
                                        p = deploy_promql_skip(after, '(', ')');
                        } else if (*after != '(' && strncmp(after, "by", 2) != 0 &&
                                   strncmp(after, "without", 7) != 0) {
                                /* not a function, nor an aggregation as in "sum by (x) (...)" */
                                deploy_names_add(out, word, (size_t)(p - word));
                        }
                } else {
                        p++;
                }
        }
}

/* The C sources of the daemons, concatenated (nftw() has no argument). */
static struct {
        char *text;
        size_t len, cap;
} deploy_code;

static int deploy_code_visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        const char *base = path + ftw->base;
        size_t n = strlen(base);
        FILE *f;

        if (type == FTW_D && ftw->level > 0 &&
            (base[0] == '.' || !strncmp(base, "build", 5) || !strcmp(base, "tests") ||
             !strcmp(base, "bench") || !strcmp(base, "deploy")))
                return FTW_SKIP_SUBTREE;
        if (type != FTW_F || n < 3 || strcmp(base + n - 2, ".c") != 0)
                return FTW_CONTINUE;
        if (deploy_code.len + (size_t)st->st_size + 1 > deploy_code.cap)
                return FTW_STOP;
        f = fopen(path, "r");
        if (!f)
                return FTW_STOP;
        deploy_code.len += fread(deploy_code.text + deploy_code.len, 1, (size_t)st->st_size, f);
        deploy_code.text[deploy_code.len] = '\0';
        fclose(f);
        return FTW_CONTINUE;
}

static void deploy_code_load(void) {
        deploy_code.cap = 8 * (size_t)DEPLOY_FILE_BYTES_MAX;
        deploy_code.len = 0;
        ck_assert_ptr_nonnull(deploy_code.text = malloc(deploy_code.cap));
        deploy_code.text[0] = '\0';
        ck_assert_msg(nftw(testing_source_root(), deploy_code_visit, 32,
                           FTW_PHYS | FTW_ACTIONRETVAL) == 0,
                      "reading the sources failed");
        ck_assert_uint_gt(deploy_code.len, 0);
}

static bool deploy_code_has(const char *quoted) {
        return strstr(deploy_code.text, quoted) != NULL;
}

/* The first word of each line of planned-metrics.txt that is not a comment. */
static void deploy_planned_load(struct deploy_names *planned) {
        char *text = deploy_read("deploy/grafana/planned-metrics.txt", NULL);

        planned->n = 0;
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t n = strcspn(l, " \t\n");

                if (l[0] != '#' && n > 0)
                        deploy_names_add(planned, l, n);
        }
        free(text);
}

/* Adds the expr of every target of every panel (rows' panels too). */
static int deploy_panels_exprs(yaml_document_t *d, yaml_node_t *panels, struct deploy_names *out) {
        int queries = 0;

        for (size_t i = 0; i < deploy_seq_len(panels); i++) {
                yaml_node_t *p = deploy_seq_item(d, panels, i);
                const char *type = deploy_node_str(deploy_node_key(d, p, "type"));
                const char *title = deploy_node_str(deploy_node_key(d, p, "title"));
                yaml_node_t *targets = deploy_node_key(d, p, "targets");

                ck_assert_msg(type && title, "dashboard: panel %zu has no type or title", i);
                if (!strcmp(type, "row")) {
                        queries += deploy_panels_exprs(d, deploy_node_key(d, p, "panels"), out);
                        continue;
                }
                ck_assert_msg(deploy_seq_len(targets) > 0, "dashboard: panel '%s' queries nothing",
                              title);
                ck_assert_msg(deploy_node_key(d, p, "datasource") != NULL,
                              "dashboard: panel '%s' has no datasource", title);
                for (size_t t = 0; t < deploy_seq_len(targets); t++) {
                        const char *expr = deploy_node_str(
                                deploy_node_key(d, deploy_seq_item(d, targets, t), "expr"));

                        ck_assert_msg(expr && *expr, "dashboard: panel '%s' target %zu: no expr",
                                      title, t);
                        deploy_promql_metrics(expr, out);
                        queries++;
                }
        }
        return queries;
}

START_TEST(test_deploy_dashboard_queries_only_known_metrics) {
        static struct deploy_names used, planned;
        struct deploy_yaml y;
        yaml_document_t *d;
        yaml_node_t *root;
        size_t len;
        char *text = deploy_read("deploy/grafana/fraud-pipeline.json", &len);
        int line = deploy_json_check(text), unknown = 0;

        ck_assert_msg(line == 0, "fraud-pipeline.json:%d: not JSON", line);
        deploy_yaml_parse(&y, "fraud-pipeline.json", text, len);
        free(text);
        d = &y.docs[0];
        root = yaml_document_get_root_node(d);
        ck_assert_msg(
                deploy_node_long(deploy_node_key(d, root, "schemaVersion"), "schemaVersion") >= 36,
                "dashboard: schemaVersion below 36 (Grafana 9)");
        ck_assert_ptr_nonnull(deploy_node_str(deploy_node_key(d, root, "uid")));
        used.n = 0;
        ck_assert_int_gt(deploy_panels_exprs(d, deploy_node_key(d, root, "panels"), &used), 0);
        deploy_planned_load(&planned);
        deploy_code_load();
        for (int i = 0; i < used.n; i++) {
                const char *m = used.names[i];
                bool code = deploy_metric_known(NULL, m), plan = deploy_metric_known(&planned, m);

                if (!code && !plan && strcmp(m, "up") != 0) { /* up: Prometheus' own */
                        fprintf(stderr,
                                "dashboard metric %s: not registered in the code and not "
                                "in planned-metrics.txt\n",
                                m);
                        unknown++;
                }
                if (code && plan)
                        printf("note: %s is registered now: remove it from planned-metrics.txt\n",
                               m);
        }
        free(deploy_code.text);
        deploy_yaml_free(&y);
        ck_assert_msg(unknown == 0, "%d dashboard metrics unknown (listed above)", unknown);
}
END_TEST

/* The PromQL reader finds metric names, not functions, labels or durations. */
START_TEST(test_deploy_promql_reader_finds_only_metric_names) {
        static struct deploy_names n;

        n.n = 0;
        deploy_promql_metrics("histogram_quantile(0.99, sum by (le, stage) (rate("
                              "a_seconds_bucket{job=\"x\", reason=~\"b|c\"}[$__rate_interval])))"
                              " / on (stage) group_left b_total offset 5m or vector(0)",
                              &n);
        ck_assert_int_eq(n.n, 2);
        ck_assert_str_eq(n.names[0], "a_seconds_bucket");
        ck_assert_str_eq(n.names[1], "b_total");
        ck_assert_int_eq(deploy_json_check("{\"a\": [1, 2.5e3, -0, \"x\\u00e9\", true, null]}"), 0);
        ck_assert_int_eq(deploy_json_check("{\"a\": [1, 2,]}"), 1);
        ck_assert_int_eq(deploy_json_check("{\"a\":\n 01}"), 2);
        ck_assert_int_ne(deploy_json_check("{a: 1}"), 0);
}
END_TEST

TESTING_MAIN("deploy", test_deploy_every_manifest_parses_and_kustomization_lists_it,
             test_deploy_configs_load_and_give_each_stage_its_own_port,
             test_deploy_configmap_rules_compile_against_its_feature_schema,
             test_deploy_ports_and_probes_follow_http_listen,
             test_deploy_volumes_are_mounted_where_the_config_points,
             test_deploy_pods_run_unprivileged_with_resources,
             test_deploy_kafka_topics_are_the_configured_topics,
             test_deploy_dockerfile_copies_built_binaries_and_exposes_ports,
             test_deploy_systemd_units_match_their_config,
             test_deploy_prometheus_targets_are_the_http_listen_addresses,
             test_deploy_pod_scrape_job_reads_the_pods_annotations,
             test_deploy_dashboard_queries_only_known_metrics,
             test_deploy_promql_reader_finds_only_metric_names)
