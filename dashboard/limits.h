/* limits.h: every named maximum of fraud-dashboard, in one place.
 *
 * Like lib/bounds.h for the stages: the review queue, the windows, the
 * caches and the texts the dashboard builds each have a limit here, and
 * the keys of the dashboard section of the settings that tune them are
 * bounded by these.  The web server's own limits are in dashboard/web.h.
 */
#ifndef FRAUD_DASHBOARD_LIMITS_H
#define FRAUD_DASHBOARD_LIMITS_H

/* ---- settings: upper ends of the tunable ranges ---- */
#define DASHBOARD_QUEUE_MAX           50000  /* dashboard.review_queue_max */
#define DASHBOARD_HISTORY_MINUTES_MAX 1440   /* dashboard.history_minutes */
#define DASHBOARD_PSI_RECORDS_MAX     100000 /* psi_reference_records, psi_window_records */
#define DASHBOARD_PSI_BINS_MAX        20     /* dashboard.psi_bins (plus one for missing values) */
#define DASHBOARD_REWIND_RECORDS_MAX  10000000 /* dashboard.rewind_records, per partition */
#define DASHBOARD_STREAM_PER_SEC_MAX  10000    /* dashboard.stream_per_sec_max */

/* ---- what one record keeps ---- */
#define DASHBOARD_ID_MAX      128 /* bytes of a transaction id or card hash, NUL included */
#define DASHBOARD_TEXT_MAX    64  /* bytes of a merchant or terminal id, a version, a reason code */
#define DASHBOARD_REASONS_MAX 8   /* reason codes kept per review item (= the scorer's) */

/* ---- memory of the past ---- */
#define DASHBOARD_CLOSED_PER_SLOT 4     /* verdicts remembered per review queue slot */
#define DASHBOARD_DETAILS_MAX     65536 /* transactions whose details wait for their Score */
#define DASHBOARD_DEDUP_MAX       65536 /* Score ids remembered to drop re-sent Scores */
#define DASHBOARD_VERSIONS_MAX    32    /* model version sets listed (least recently seen out) */

/* ---- what the page receives ---- */
#define DASHBOARD_QUEUE_SHOWN     200          /* review items in one state (newest first) */
#define DASHBOARD_STATE_BYTES_MAX (4u << 20)   /* one state text (JSON) */
#define DASHBOARD_ROWS_BYTES_MAX  (512u << 10) /* one frame of decision rows (JSON) */
#define DASHBOARD_FEATURES_SHOWN  12           /* features in the drift table, worst first */

#endif
