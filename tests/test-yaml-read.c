/* The YAML reader: scalar types, positions, documents, and every refusal (limits, anchors and
 * aliases, tags, duplicate keys, NUL bytes, invalid UTF-8), each with its exact message; and the
 * helpers the readers share (suggestions, slots, the message list). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "tap.h"
#include "util.h"
#include "yaml-read.h"

/* Parses 'text' (or 'size' bytes of it) expecting refusal with exactly 'want'. */
static void refused(const char *what, const char *text, size_t size, const char *want) {
        _cleanup_(diags_donep) struct yaml_read_diags d = {};
        _cleanup_free_ char *got = NULL;
        struct yaml_read_stream *s = NULL;
        int r;

        r = yaml_read_buffer("t.yaml", text, size ? size : strlen(text), &s, &d);
        got = joined(&d);
        ok(r < 0 && !s, "%s: refused (%d)", what, r);
        is_str(got, want, "%s: message", what);
        yaml_read_stream_free(s);
}

static struct yaml_read_stream *parse(const char *text) {
        _cleanup_(diags_donep) struct yaml_read_diags d = {};
        struct yaml_read_stream *s = NULL;
        int r;

        r = yaml_read_buffer("t.yaml", text, strlen(text), &s, &d);
        if (r < 0) {
                _cleanup_free_ char *got = joined(&d);

                diag("parse failed (%d): %s", r, got);
        }
        return s;
}

static void test_types(void) {
        static const struct {
                const char *text;
                enum yaml_read_type type;
        } cases[] = {
                { "~", YAML_READ_NULL },
                { "null", YAML_READ_NULL },
                { "Null", YAML_READ_NULL },
                { "NULL", YAML_READ_NULL },
                { "", YAML_READ_NULL },
                { "nULL", YAML_READ_STRING },
                { "true", YAML_READ_BOOL },
                { "True", YAML_READ_BOOL },
                { "TRUE", YAML_READ_BOOL },
                { "false", YAML_READ_BOOL },
                { "tRUE", YAML_READ_STRING },
                { "yes", YAML_READ_BOOL_1_1 },
                { "No", YAML_READ_BOOL_1_1 },
                { "ON", YAML_READ_BOOL_1_1 },
                { "off", YAML_READ_BOOL_1_1 },
                { "y", YAML_READ_BOOL_1_1 },
                { "N", YAML_READ_BOOL_1_1 },
                { "yES", YAML_READ_STRING },
                { "0", YAML_READ_INT },
                { "-12", YAML_READ_INT },
                { "+7", YAML_READ_INT },
                { "0o17", YAML_READ_INT },
                { "0x1F", YAML_READ_INT },
                { "0x", YAML_READ_STRING },
                { "0o8", YAML_READ_STRING },
                { "1_000", YAML_READ_STRING },
                { "1.5", YAML_READ_FLOAT },
                { ".5", YAML_READ_FLOAT },
                { "5.", YAML_READ_FLOAT },
                { "1e3", YAML_READ_FLOAT },
                { "-1.5E-3", YAML_READ_FLOAT },
                { ".inf", YAML_READ_FLOAT },
                { "-.Inf", YAML_READ_FLOAT },
                { ".NaN", YAML_READ_FLOAT },
                { "1e", YAML_READ_STRING },
                { ".", YAML_READ_STRING },
                { "5m", YAML_READ_STRING },
                { "10%", YAML_READ_STRING },
                { "team-a-", YAML_READ_STRING },
                { "\"true\"", YAML_READ_STRING },
                { "'5'", YAML_READ_STRING },
                { "\"\"", YAML_READ_STRING },
                { "!!str 5", YAML_READ_STRING },
                { "! 5", YAML_READ_STRING },
                { "!!int \"5\"", YAML_READ_INT },
                { "!!float 1", YAML_READ_FLOAT },
                { "!!bool true", YAML_READ_BOOL },
                { "!!null ~", YAML_READ_NULL },
                { "|\n  true\n", YAML_READ_STRING },
                { ">\n  5\n", YAML_READ_STRING },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *doc = NULL;
                _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = NULL;
                const struct yaml_read_node *v;

                assert_se(asprintf(&doc, "k: %s\n", cases[i].text) >= 0);
                s = parse(doc);
                v = s && s->n_documents == 1 && s->documents[0]->n_children == 2
                            ? s->documents[0]->children[1]
                            : NULL;
                ok(v && v->kind == YAML_READ_SCALAR && v->type == cases[i].type,
                   "type of case %zu, '%.*s': %d", i, (int) strcspn(cases[i].text, "\n"), cases[i].text,
                   v ? (int) v->type : -1);
        }
}

static void test_tree(void) {
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s =
                parse("# comment\na: [x, 'y']\nb:\n  c: d\n  é: \"ü\"\n---\n- 1\n---\n...\n");
        const struct yaml_read_node *root, *n;
        char buf[64];

        if (!ok(s && s->n_documents == 3, "three documents"))
                return;
        is_str(s->file, "t.yaml", "the stream keeps the file's name");
        root = s->documents[0];
        ok(root->kind == YAML_READ_MAPPING && root->n_children == 4, "a mapping of two pairs");
        ok(root->line == 2 && root->column == 1, "the mapping's position");
        n = root->children[1];
        ok(n->kind == YAML_READ_SEQUENCE && n->n_children == 2 && n->line == 2 && n->column == 4,
           "a flow list at 2:4");
        ok(streq(n->children[1]->value, "y") && n->children[1]->column == 8, "a quoted item at 2:8");
        n = root->children[3];
        ok(n->kind == YAML_READ_MAPPING && streq(n->children[2]->value, "é"), "a UTF-8 key");
        ok(n->children[3]->line == 5 && n->children[3]->column == 6,
           "columns count characters, not bytes (%u:%u)", n->children[3]->line, n->children[3]->column);
        ok(n->children[3]->length == 2 && streq(n->children[3]->value, "ü"), "lengths count bytes");
        ok(s->documents[1]->kind == YAML_READ_SEQUENCE, "the second document");
        n = s->documents[2];
        ok(n->kind == YAML_READ_SCALAR && n->type == YAML_READ_NULL && n->line == 8 && n->column == 1,
           "an empty document: a null at its '---' (%u:%u)", n->line, n->column);
        is_str(yaml_read_describe(root, buf, sizeof(buf)), "a mapping", "describe: a mapping");
        is_str(yaml_read_describe(s->documents[1], buf, sizeof(buf)), "a list", "describe: a list");
        is_str(yaml_read_describe(s->documents[1]->children[0], buf, sizeof(buf)), "an integer",
               "describe: an integer");
        is_str(yaml_read_describe(n, buf, sizeof(buf)), "null", "describe: null");

        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *empty = parse("# nothing\n");
        ok(empty && empty->n_documents == 0, "comments only: no document");
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *nothing = parse("");
        ok(nothing && nothing->n_documents == 0, "empty input: no document");
        _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *b = parse("k: yes\n");
        ok(b && streq(yaml_read_describe(b->documents[0]->children[1], buf, sizeof(buf)),
                      "'yes' (a boolean in YAML 1.1)"),
           "describe: a YAML 1.1 boolean names itself");
}

static void test_refusals(void) {
        char *big;
        size_t n;

        refused("an anchor", "a: &x 1\n", 0,
                "t.yaml:1:4: anchor '&x' is not supported: anchors and aliases have no use in this format, "
                "and "
                "refusing them rules out alias expansion (\"billion laughs\") attacks\n");
        refused("an alias (no anchor)", "a: *x\n", 0,
                "t.yaml:1:4: alias '*x' is not supported: anchors and aliases have no use in this format, "
                "and "
                "refusing them rules out alias expansion (\"billion laughs\") attacks\n");
        refused("a duplicate key", "a: 1\nb: 2\n\"a\": 3\n", 0,
                "t.yaml:3:1: duplicate key 'a' (first defined at line 1, column 1)\n");
        refused("duplicate keys, nested and repeated", "x:\n  k: 1\n  k: 2\n  k: 3\ny: {z: 1, z: 2}\n", 0,
                "t.yaml:3:3: duplicate key 'k' (first defined at line 2, column 3)\n"
                "t.yaml:4:3: duplicate key 'k' (first defined at line 2, column 3)\n"
                "t.yaml:5:11: duplicate key 'z' (first defined at line 5, column 5)\n");
        refused("a complex key", "? {a: 1}\n: x\n", 0,
                "t.yaml:1:3: a mapping key must be a scalar, not a mapping\n");
        refused("a local tag", "a: !foo 1\n", 0,
                "t.yaml:1:4: tag '!foo' is not supported: only the standard tags (!!str, !!int, ...) are\n");
        refused("!!binary", "a: !!binary aGk=\n", 0, "t.yaml:1:4: tag '!!binary' is not supported here\n");
        refused("!!map on a list", "a: !!map [1]\n", 0, "t.yaml:1:4: tag '!!map' is not supported here\n");
        refused("!!bool on yes", "a: !!bool yes\nb: !!null x\n", 0,
                "t.yaml:1:4: 'yes' is not a valid !!bool\nt.yaml:2:4: 'x' is not a valid !!null\n");
        refused("a %TAG directive remapping !!", "%TAG !! tag:example.com,2000:\n---\na: !!str x\n", 0,
                "t.yaml:3:4: tag 'tag:example.com,2000:str' is not supported: only the standard tags "
                "(!!str, !!int, "
                "...) are\n");
        refused("a NUL byte", "a: 1\nb: x\0y\n", 11, "t.yaml:2:5: NUL byte in the file\n");
        refused("an escaped NUL", "a: \"x\\0y\"\n", 0, "t.yaml:1:4: NUL character in a scalar\n");
        refused("a Latin-1 byte", "a: caf\xe9\n", 0, "t.yaml:1:7: invalid UTF-8 (byte 0xe9)\n");
        refused("a lone continuation byte", "a: \x80\n", 0, "t.yaml:1:4: invalid UTF-8 (byte 0x80)\n");
        refused("a sequence cut at the end", "a: \xe2\x82", 0, "t.yaml:1:4: invalid UTF-8 (byte 0xe2)\n");
        refused("an overlong form", "a: \xe0\x80\xaf\n", 0, "t.yaml:1:4: invalid UTF-8 (byte 0xe0)\n");
        refused("a surrogate", "a: \xed\xb0\x80\n", 0, "t.yaml:1:4: invalid UTF-8 (byte 0xed)\n");
        refused("past U+10FFFF", "a: \xf4\x90\x80\x80\n", 0, "t.yaml:1:4: invalid UTF-8 (byte 0xf4)\n");
        refused("UTF-16",
                "\xff\xfe"
                "a\0:\0",
                6, "t.yaml:1:4: NUL byte in the file\n");
        refused("a control character", "a: 1\nb: x\x01\n", 0,
                "t.yaml:2:5: invalid input: control characters are not allowed\n");
        refused("a syntax error", "a: [1, 2\n", 0,
                "t.yaml:2:1: syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
                "at line 1, "
                "column 4)\n");
        refused("a syntax error after multibyte characters", "é: ü: x\n", 0,
                "t.yaml:1:5: syntax error: mapping values are not allowed in this context\n");
        refused("a syntax error after CR LF", "a: 1\r\nb: [\r\n", 0,
                "t.yaml:3:1: syntax error: did not find expected node content (while parsing a flow node at "
                "line 3, "
                "column 1)\n");

        {
                _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s =
                        parse("a: \xf0\x9f\x98\x80\n");
                ok(s && streq(s->documents[0]->children[1]->value, "\xf0\x9f\x98\x80"),
                   "a 4-byte character is fine");
        }

        /* Nesting: 64 levels are fine, 65 are not. */
        big = malloc(1024);
        assert(big);
        n = 0;
        for (int i = 0; i < 64; i++)
                big[n++] = '[';
        for (int i = 0; i < 64; i++)
                big[n++] = ']';
        big[n] = 0;
        {
                _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = parse(big);
                ok(s != NULL, "nesting 64 levels deep is fine");
        }
        memmove(big + 1, big, n + 1);
        big[0] = '[';
        big[n + 1] = ']';
        big[n + 2] = 0;
        refused("nesting 65 levels deep", big, 0, "t.yaml:1:65: nesting deeper than 64 levels\n");
        free(big);

        /* Scalars: 64 KiB is fine, one byte more is not. */
        big = malloc(70000);
        assert(big);
        memcpy(big, "a: ", 3);
        memset(big + 3, 'x', YAML_READ_MAX_SCALAR_SIZE);
        big[3 + YAML_READ_MAX_SCALAR_SIZE] = 0;
        {
                _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = parse(big);
                ok(s && s->documents[0]->children[1]->length == YAML_READ_MAX_SCALAR_SIZE,
                   "a scalar of 64 KiB is fine");
        }
        big[3 + YAML_READ_MAX_SCALAR_SIZE] = 'x';
        big[4 + YAML_READ_MAX_SCALAR_SIZE] = 0;
        refused("a scalar of 64 KiB + 1", big, 0, "t.yaml:1:4: scalar longer than 65536 bytes\n");
        free(big);

        /* Nodes: a million are fine, one more is not. Two bytes a node: "0,". */
        n = 2 * (size_t) YAML_READ_MAX_NODES + 8;
        big = malloc(n);
        assert(big);
        big[0] = '[';
        for (size_t i = 0; i < YAML_READ_MAX_NODES - 1; i++) {
                big[1 + 2 * i] = '0';
                big[2 + 2 * i] = ',';
        }
        strcpy(big + 2 * (YAML_READ_MAX_NODES - 1), "]");
        {
                _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = parse(big);
                ok(s && s->documents[0]->n_children == YAML_READ_MAX_NODES - 1, "a million nodes are fine");
        }
        strcpy(big + 2 * (YAML_READ_MAX_NODES - 1), ",0]");
        refused("a million and one nodes", big, 0,
                "t.yaml:1:2000000: more than 1000000 YAML nodes in one file\n");
        free(big);

        /* Size: the buffer itself. */
        big = calloc(1, YAML_READ_MAX_FILE_SIZE + 1);
        assert(big);
        memset(big, '#', YAML_READ_MAX_FILE_SIZE + 1);
        refused("a buffer of 16 MiB + 1", big, YAML_READ_MAX_FILE_SIZE + 1,
                "t.yaml: larger than 16777216 bytes\n");
        free(big);
}

static void test_files(void) {
        _cleanup_(diags_donep) struct yaml_read_diags d = {};
        _cleanup_free_ char *got = NULL;
        struct yaml_read_stream *s = NULL;
        int r;

        r = yaml_read_file("/nonexistent/t.yaml", &s, &d);
        ok(r == -ENOENT && !s, "a missing file: -ENOENT");
        r = yaml_read_file("/", &s, &d);
        ok(r == -EISDIR && !s, "a folder: -EISDIR");
        r = yaml_read_file("/dev/null", &s, &d);
        ok(r == -EINVAL && !s, "a device: -EINVAL");
        got = joined(&d);
        is_str(got,
               "/nonexistent/t.yaml: cannot open: No such file or directory\n/: is a directory, not a file\n"
               "/dev/null: not a regular file\n",
               "files that cannot be read: messages");
}

static void test_helpers(void) {
        static const char *const keys[] = { "enabled", "delete_sync_jobs", "hard", "allow_empty", "id" };
        static const struct {
                const char *word, *want;
        } cases[] = {
                { "delete_sync_job", "delete_sync_jobs" },
                { "enabeld", "enabled" },
                { "enable", "enabled" },
                { "allowempty", "allow_empty" },
                { "hrad", "hard" },
                { "ix", "id" },
                { "i", NULL },
                { "x", NULL },
                { "retries", NULL },
                { "", NULL },
                { "completely-different", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_str(yaml_read_suggest(cases[i].word, keys, ELEMENTSOF(keys)), cases[i].want,
                       "suggest '%s'", cases[i].word);

        {
                _cleanup_(diags_donep) struct yaml_read_diags d = {};
                _cleanup_(yaml_read_stream_freep) struct yaml_read_stream *s = NULL;
                _cleanup_free_ char *doc = NULL, *got = NULL, *want = NULL;
                const struct yaml_read_node *v[ELEMENTSOF(keys)];
                char long_key[201];
                int r;

                memset(long_key, 'k', 200);
                long_key[200] = 0;
                assert_se(asprintf(&doc, "hard: true\nhrad: 1\n%s: 2\nid: x\n", long_key) >= 0);
                s = parse(doc);
                assert(s);
                r = yaml_read_mapping_slots(s->documents[0], "t.yaml", "spec.prune", keys, ELEMENTSOF(keys),
                                            v, &d);
                got = joined(&d);
                assert_se(asprintf(&want,
                                   "t.yaml:2:1: unknown key 'spec.prune.hrad' (did you mean 'hard'?)\n"
                                   "t.yaml:3:1: unknown key 'spec.prune.%.100s...'\n",
                                   long_key) >= 0);
                ok(r == -EINVAL, "slots: unknown keys make it fail");
                is_str(got, want, "slots: each unknown key named by its path, long ones cut");
                ok(v[2] && streq(v[2]->value, "true") && v[4] && streq(v[4]->value, "x") && !v[0] && !v[1] &&
                           !v[3],
                   "slots: values by key, NULL when absent");
        }

        {
                _cleanup_(diags_donep) struct yaml_read_diags d = {};
                _cleanup_free_ char *got = NULL;

                (void) yaml_read_diags_add(&d, "b.yaml", 2, 1, "second");
                (void) yaml_read_diags_add(&d, "a.yaml", 0, 0, "whole file");
                (void) yaml_read_diags_add(&d, "b.yaml", 1, 9, "first");
                (void) yaml_read_diags_add(&d, "b.yaml", 1, 9, "first, again");
                (void) yaml_read_diags_add(&d, "a.yaml", 3, 1, "%s", "tab\there");
                yaml_read_diags_sort(&d, 0);
                got = joined(&d);
                is_str(got,
                       "a.yaml: whole file\na.yaml:3:1: tab\\there\nb.yaml:1:9: first\nb.yaml:1:9: first, "
                       "again\n"
                       "b.yaml:2:1: second\n",
                       "messages: sorted by file, line and column, stable; control characters escaped");
                ok(d.items[0].line == 0 && d.items[0].column == 0 &&
                           streq(d.items[1].message, "tab\\there") && streq(d.items[1].file, "a.yaml"),
                   "messages: their parts");
        }
}

int main(void) {
        test_types();
        test_tree();
        test_refusals();
        test_files();
        test_helpers();
        return done();
}
