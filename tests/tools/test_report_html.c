/* Tests for tools/report_html.c: the page is one self-contained HTML
 * document, the report JSON is embedded in it with "</" and "<!--" escaped
 * so that data cannot end the data element, nothing in it points to the
 * network, and empty input and write failures are errors. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/report_html.h"

#include "tests/testing.h"

#define PAGE_BYTES_MAX (4u << 20)

static const char SAMPLE[] =
        "{\"format\": \"fraud-backtest-report/1\",\n"
        " \"title\": \"Backtest 2026-01-01 .. 2026-01-02\",\n"
        " \"totals\": {\"transactions\": 20, \"scored\": 20, \"evaluated\": 10},\n"
        " \"days\": [{\"day\": \"2026-01-01\", \"transactions\": 10, \"auc_roc\": null,\n"
        "            \"decisions\": {\"allow\": 9, \"review\": 1, \"block\": 0}}],\n"
        " \"label_arrival\": {\"days\": [0, 1], \"share\": [0.5, 1.0], \"chargebacks\": 2}}\n";

/* Writes the page for json into a tmpfile and returns it, NUL-terminated
 * (caller frees); *status gets report_html_write's result. */
static char *page_for(const char *json, size_t len, int *status) {
        FILE *f = tmpfile();
        char *page = malloc(PAGE_BYTES_MAX + 1);
        size_t n;

        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(page);
        *status = report_html_write(f, json, len);
        rewind(f);
        n = fread(page, 1, PAGE_BYTES_MAX, f);
        ck_assert_int_lt(n, PAGE_BYTES_MAX); /* the whole page was read */
        page[n] = '\0';
        fclose(f);
        return page;
}

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;

        for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* The text of the data element: from after its start tag to its end tag. */
static const char *data_start(const char *page) {
        const char *tag = strstr(page, "<script type=\"application/json\" id=\"report-data\">");

        ck_assert_ptr_nonnull(tag);
        return strchr(tag, '>') + 1;
}

START_TEST(test_report_html_is_a_document_holding_the_json_verbatim) {
        int status;
        char *page = page_for(SAMPLE, strlen(SAMPLE), &status);
        const char *data;

        ck_assert_int_eq(status, 0);
        ck_assert_int_eq(strncmp(page, "<!DOCTYPE html>", 15), 0);
        data = data_start(page);
        ck_assert_ptr_nonnull(strstr(data, SAMPLE));
        ck_assert_ptr_eq(strstr(data, "</script>"), strstr(data, SAMPLE) + strlen(SAMPLE) + 1);
        ck_assert_ptr_nonnull(strstr(page, "</html>"));
        free(page);
}
END_TEST

START_TEST(test_report_html_escapes_a_closing_tag_in_the_data) {
        static const char json[] = "{\"title\": \"a</script><script>alert(1)</script>b\", "
                                   "\"note\": \"<!--<script>\"}";
        static const char escaped[] = "{\"title\": \"a<\\/script><script>alert(1)<\\/script>b\", "
                                      "\"note\": \"<\\u0021--<script>\"}";
        int status;
        char *page = page_for(json, strlen(json), &status);
        const char *data, *end;

        ck_assert_int_eq(status, 0);
        data = data_start(page);
        end = strstr(data, "</script>");
        ck_assert_ptr_nonnull(end);
        /* The first end tag after the data element's start is its own, after all the data. */
        ck_assert_ptr_eq(strstr(data, escaped), data + 1);
        ck_assert_ptr_eq(end, data + 1 + strlen(escaped) + 1);
        ck_assert_ptr_null(strstr(data, "<!--"));
        free(page);
}
END_TEST

START_TEST(test_report_html_closes_every_script_it_opens) {
        int status;
        char *page = page_for(SAMPLE, strlen(SAMPLE), &status);

        ck_assert_int_eq(status, 0);
        /* The data element and the drawing script; neither the style nor the
         * script may contain a sequence that would end its element early. */
        ck_assert_uint_eq(count(page, "<script"), 2);
        ck_assert_uint_eq(count(page, "</script"), 2);
        ck_assert_uint_eq(count(page, "<style"), 1);
        ck_assert_uint_eq(count(page, "</style"), 1);
        ck_assert_ptr_null(strstr(page, "<!--")); /* every marker was replaced */
        free(page);
}
END_TEST

START_TEST(test_report_html_points_nowhere_outside_the_page) {
        int status;
        char *page = page_for(SAMPLE, strlen(SAMPLE), &status);

        ck_assert_int_eq(status, 0);
        ck_assert_ptr_null(strstr(page, "http://"));
        ck_assert_ptr_null(strstr(page, "https://"));
        ck_assert_ptr_null(strstr(page, "//cdn"));
        ck_assert_ptr_null(strstr(page, "src=\""));
        ck_assert_ptr_null(strstr(page, "@import"));
        ck_assert_ptr_null(strstr(page, "url("));
        free(page);
}
END_TEST

START_TEST(test_report_html_rejects_empty_json) {
        FILE *f = tmpfile();

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(report_html_write(f, SAMPLE, 0), -EINVAL);
        ck_assert_int_eq(report_html_write(f, NULL, 0), -EINVAL);
        ck_assert_int_eq(ftell(f), 0);
        fclose(f);
}
END_TEST

START_TEST(test_report_html_reports_a_failed_write) {
        FILE *f = fopen("/dev/full", "w");

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(report_html_write(f, SAMPLE, strlen(SAMPLE)), -EIO);
        fclose(f);
}
END_TEST

TESTING_MAIN("report_html", test_report_html_is_a_document_holding_the_json_verbatim,
             test_report_html_escapes_a_closing_tag_in_the_data,
             test_report_html_closes_every_script_it_opens,
             test_report_html_points_nowhere_outside_the_page, test_report_html_rejects_empty_json,
             test_report_html_reports_a_failed_write)
