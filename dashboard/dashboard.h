/* dashboard.h: the dashboard stage object and its loop: the analyst's view
 * of the pipeline, beside stage 3.
 *
 * One step: take what the consumer has fetched from scores, tx.features,
 * labels and chargebacks (one consumer, dashboard.group_id; no wait) ->
 * hand each record to the view (dashboard/view.h: counts, drift, the
 * review queue) -> every DASHBOARD_ROWS_EVERY_MS send the new decision
 * rows to the page's event streams, every DASHBOARD_STATE_EVERY_MS the
 * whole state -> serve the page (dashboard/web.h), waiting for a request
 * at most DASHBOARD_IDLE_WAIT_MS when no record came.  An analyst's
 * verdict is handled inside that last part: decided by the view,
 * published as a Chargeback to topics.chargebacks (keyed by the card
 * hash, the transaction id when the Score had none), waited for until
 * delivered (at most DASHBOARD_VERDICT_FLUSH_MS, which the loop waits
 * too: verdicts come at a person's pace), and only then is the item
 * closed.  A verdict that was not delivered is answered 503 and leaves
 * the item open; sent again, it is the same statement (same chargeback
 * id), which the labeler counts once.
 *
 * Where it starts reading.  The dashboard keeps no state on disk: at each
 * start (each assignment) it begins dashboard.rewind_records records
 * before the end of every partition (librdkafka's logical "tail"
 * offset), so the page shows the recent past at once and the review
 * queue is rebuilt from the recent REVIEW Scores minus the verdicts on
 * chargebacks (which it reads too, from the same rewind).  A rewind that
 * reaches before the oldest record kept starts at the oldest (the reset
 * policy is "earliest": for a view, a gap is not an error).  The offsets
 * it stores are only for lag monitoring of its group.  Every instance
 * must see every partition: run each dashboard with its own group_id.
 *
 * Records that do not decode are counted and skipped; the page is a view
 * and the owning stage has its own dead letters.  Memory is bounded by the
 * settings and dashboard/limits.h.
 */
#ifndef FRAUD_DASHBOARD_H
#define FRAUD_DASHBOARD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "lib/metrics.h"

#define DASHBOARD_ROWS_EVERY_MS    250  /* decision rows to the page */
#define DASHBOARD_STATE_EVERY_MS   1000 /* the state to the page */
#define DASHBOARD_IDLE_WAIT_MS     20   /* longest wait for a request when no record came */
#define DASHBOARD_VERDICT_FLUSH_MS 5000 /* longest wait for a verdict's delivery */
#define DASHBOARD_LOG_EVERY_US     (10 * 1000000) /* progress line */
#define DASHBOARD_ERR_MAX          512

struct dashboard;

/* Opens the consumer, the producer and the page's server
 * (dashboard.page_listen).  s is borrowed and must outlive d.  -EINVAL for
 * bad settings or address, another -errno when Kafka or the port cannot
 * be used; the reason in err. */
int dashboard_new(const struct fraud_settings *s, struct dashboard **out, char *err,
                  size_t err_size);

/* One step as above.  Returns the records taken, or -errno (the reason in
 * dashboard_error()). */
int dashboard_step(struct dashboard *d, int timeout_ms);

/* Steps until *stop is set or a step fails; logs progress. */
int dashboard_run(struct dashboard *d, const volatile sig_atomic_t *stop);

/* Stores the last offsets, leaves the group, stops the server, frees d.
 * 0 or -errno (logged). */
int dashboard_close(struct dashboard *d);

/* Frees without a clean shutdown.  NULL is a no-op. */
void dashboard_free(struct dashboard *d);

const char *dashboard_error(const struct dashboard *d);

/* Ready once a partition of every topic it reads is assigned (else why). */
bool dashboard_ready(const struct dashboard *d, char *why, size_t why_size);

/* The registry, its values brought up to date. */
const struct fraud_metrics *dashboard_metrics(struct dashboard *d);

/* The page's port (the bound one when dashboard.page_listen asked for 0). */
uint16_t dashboard_page_port(const struct dashboard *d);

#endif
