/* report_html.c: see report_html.h.
 *
 * Design.  The page lives in three source files beside this one:
 * report_template.html (the skeleton), report_template.css and
 * report_template.js (the drawing code).  tools/embed.py compiles them into
 * byte arrays at build time (report_assets.c), so the binary needs no file
 * at run time and the page is the same bytes as the sources.  The skeleton
 * holds markers "<!--@NAME-->": NAME "data" is replaced by the report JSON,
 * any other NAME by the embedded file of that name.  Nothing else is
 * rewritten, so the sources can be edited and checked in a browser as they
 * are.  A marker naming no file is a programmer error (an assertion), caught
 * by the first test that writes a page.
 *
 * Escaping.  The JSON sits in <script type="application/json">, whose text
 * ends at the first "</script" (any case), and where "<!--" followed by
 * "<script" switches the HTML tokenizer into a state in which our own
 * closing tag would no longer close the element.  In valid JSON '<' only
 * occurs inside strings, where "\/" and "\u0021" are the same characters as
 * "/" and "!": writing "</" as "<\/" and "<!--" as "<\u0021--" keeps the
 * document equal for JSON.parse and makes both sequences impossible.
 * Invalid JSON is embedded the same way; the page then says it cannot read
 * the data, but its structure still holds.
 */
#include "tools/report_html.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tools/report_assets.h"

#define REPORT_HTML_MARK_OPEN  "<!--@"
#define REPORT_HTML_MARK_CLOSE "-->"
#define REPORT_HTML_DATA_MARK  "data"

static int report_html_put(FILE *out, const void *bytes, size_t n) {
        if (n > 0 && fwrite(bytes, 1, n, out) != n)
                return -EIO;
        return 0;
}

static int report_html_put_str(FILE *out, const char *s) {
        return report_html_put(out, s, strlen(s));
}

/* The escape for the sequence at json[i] ('<'), and its length in *skip;
 * NULL when it needs none. */
static const char *report_html_escape(const char *json, size_t len, size_t i, size_t *skip) {
        if (len - i >= 2 && json[i + 1] == '/') {
                *skip = 2;
                return "<\\/";
        }
        if (len - i >= 4 && memcmp(json + i, "<!--", 4) == 0) {
                *skip = 4;
                return "<\\u0021--";
        }
        return NULL;
}

/* Writes json with "</" and "<!--" escaped (see the header comment). */
static int report_html_put_json(FILE *out, const char *json, size_t len) {
        size_t from = 0, i = 0, skip = 0;
        const char *esc;
        int r;

        while (i < len) {
                const char *lt = memchr(json + i, '<', len - i);

                if (lt == NULL)
                        break;
                i = (size_t)(lt - json);
                esc = report_html_escape(json, len, i, &skip);
                if (esc == NULL) {
                        i++;
                        continue;
                }
                r = report_html_put(out, json + from, i - from);
                if (r == 0)
                        r = report_html_put_str(out, esc);
                if (r < 0)
                        return r;
                i += skip;
                from = i;
        }
        return report_html_put(out, json + from, len - from);
}

/* The embedded file called name (n bytes, not NUL-terminated). */
static const struct report_assets_file *report_html_asset(const char *name, size_t n) {
        for (size_t i = 0; i < report_assets_files_count; i++) {
                const struct report_assets_file *f = &report_assets_files[i];

                if (strlen(f->name) == n && memcmp(f->name, name, n) == 0)
                        return f;
        }
        return NULL;
}

/* Writes what the marker name (n bytes) stands for. */
static int report_html_put_mark(FILE *out, const char *name, size_t n, const char *json,
                                size_t len) {
        const struct report_assets_file *f;

        if (n == strlen(REPORT_HTML_DATA_MARK) && memcmp(name, REPORT_HTML_DATA_MARK, n) == 0)
                return report_html_put_json(out, json, len);
        f = report_html_asset(name, n);
        assert(f != NULL && "report_template.html names a file that is not embedded");
        return report_html_put(out, f->data, f->size);
}

/* Writes the template with every marker replaced. */
static int report_html_expand(FILE *out, const char *json, size_t len) {
        const char *p = (const char *)report_assets_report_template_html;
        const char *end = p + report_assets_report_template_html_size;
        const size_t open_len = strlen(REPORT_HTML_MARK_OPEN);
        const size_t close_len = strlen(REPORT_HTML_MARK_CLOSE);
        int r;

        for (;;) {
                const char *mark = memmem(p, (size_t)(end - p), REPORT_HTML_MARK_OPEN, open_len);
                const char *name, *close;

                if (mark == NULL)
                        return report_html_put(out, p, (size_t)(end - p));
                name = mark + open_len;
                close = memmem(name, (size_t)(end - name), REPORT_HTML_MARK_CLOSE, close_len);
                assert(close != NULL && "unterminated marker in report_template.html");
                r = report_html_put(out, p, (size_t)(mark - p));
                if (r == 0)
                        r = report_html_put_mark(out, name, (size_t)(close - name), json, len);
                if (r < 0)
                        return r;
                p = close + close_len;
        }
}

int report_html_write(FILE *out, const char *json, size_t len) {
        int r;

        assert(out != NULL);
        if (json == NULL || len == 0)
                return -EINVAL;
        r = report_html_expand(out, json, len);
        if (r < 0)
                return r;
        if (fflush(out) != 0 || ferror(out))
                return -EIO;
        return 0;
}
