/* gate.c: see gate.h. */
#include "trainer/gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends "; " and the formatted text to the reason being built. */
static void reason_add(char *reason, size_t size, size_t *used, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void reason_add(char *reason, size_t size, size_t *used, const char *fmt, ...) {
        va_list ap;
        int n;

        if (*used + 1 >= size)
                return;
        if (*used > 0) {
                n = snprintf(reason + *used, size - *used, "; ");
                *used += n > 0 ? (size_t)n : 0;
                *used = *used < size ? *used : size - 1;
        }
        va_start(ap, fmt);
        n = vsnprintf(reason + *used, size - *used, fmt, ap);
        va_end(ap);
        *used += n > 0 ? (size_t)n : 0;
        *used = *used < size ? *used : size - 1;
}

enum gate_verdict gate_decide(const struct gate_config *c, const struct gate_input *in,
                              char *reason, size_t reason_size) {
        const char *champion = in->champion_version ? in->champion_version : "?";
        double needed = c->ap_ratio * in->champion_average_precision;
        bool pass[4] = {in->train_frauds >= c->min_train_frauds,
                        in->holdout_frauds >= c->min_holdout_frauds, in->auc_roc >= c->min_auc,
                        !in->has_champion || in->average_precision >= needed};
        size_t used = 0;

        if (reason_size == 0)
                return pass[0] && pass[1] && pass[2] && pass[3] ? GATE_PROMOTE : GATE_REJECT;
        reason[0] = '\0';
        if (!pass[0])
                reason_add(reason, reason_size, &used, "%llu training frauds < %llu",
                           (unsigned long long)in->train_frauds,
                           (unsigned long long)c->min_train_frauds);
        if (!pass[1])
                reason_add(reason, reason_size, &used, "%llu holdout frauds < %llu",
                           (unsigned long long)in->holdout_frauds,
                           (unsigned long long)c->min_holdout_frauds);
        if (!pass[2])
                reason_add(reason, reason_size, &used, "AUC-ROC %.4f < %.4f", in->auc_roc,
                           c->min_auc);
        if (!pass[3])
                reason_add(reason, reason_size, &used,
                           "average precision %.4f < %.2f x champion %s's %.4f",
                           in->average_precision, c->ap_ratio, champion,
                           in->champion_average_precision);
        if (!(pass[0] && pass[1] && pass[2] && pass[3]))
                return GATE_REJECT;
        if (in->has_champion)
                reason_add(reason, reason_size, &used,
                           "average precision %.4f >= %.2f x champion %s's %.4f, AUC-ROC %.4f",
                           in->average_precision, c->ap_ratio, champion,
                           in->champion_average_precision, in->auc_roc);
        else
                reason_add(reason, reason_size, &used,
                           "no champion to compare; AUC-ROC %.4f, average precision %.4f, %llu "
                           "training and %llu holdout frauds",
                           in->auc_roc, in->average_precision, (unsigned long long)in->train_frauds,
                           (unsigned long long)in->holdout_frauds);
        return GATE_PROMOTE;
}
