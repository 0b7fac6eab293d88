/* report_html.h: the backtest report as one self-contained HTML page.
 *
 * `fraudctl backtest` writes report.json (format "fraud-backtest-report/1");
 * this module turns that document into report.html, a page a risk analyst
 * opens in a browser without any network: the style sheet, the script and
 * the data are all inline, and the plots are inline SVG drawn by the page's
 * own small script (no library, no font, no URL to anything outside the
 * file).  The page reads the JSON itself, so this module never parses it:
 * fields the page does not know are ignored, missing or null ones are shown
 * as gaps or dashes.
 */
#ifndef FRAUD_REPORT_HTML_H
#define FRAUD_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

/* Writes the whole HTML page for the report JSON document json (len bytes,
 * UTF-8) to out.  The JSON is embedded verbatim in a
 * <script type="application/json"> element (every "</" escaped as "<\/" and
 * every "<!--" as "<\u0021--", both still the same JSON, so the page cannot
 * be broken by data), and the page's script draws from it.  Borrows json;
 * flushes out but does not close it.  0, or -EIO when a write fails,
 * -EINVAL when json is empty. */
int report_html_write(FILE *out, const char *json, size_t len);

#endif
