/*
 * fcgispec probe app, contract version 1, in C on libfcgi's fcgiapp.h API (FCGX_Accept_r).
 * The contract is reference/probe/README.md; the reference app and this file answer alike.
 *
 * Built at set-up by harness/peers/libfcgi.ts: gcc -O2 probe.c -lfcgi. Started by spawn-fcgi with the
 * listening socket as fd 0 (FCGI_LISTENSOCK_FILENO, spec 2.2). With PROBE_CHILDREN=N in its environment
 * it forks N-1 more workers that accept on the same socket: libfcgi serves one request at a time.
 *
 * What libfcgi cannot pass through: params reach the app as "NAME=VALUE" C strings, so a value is cut at
 * its first NUL byte and a name holding '=' is split there.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <fcgiapp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bound on FCGI_STDIN + FCGI_DATA held for one request (the contract's largest body test is 64 MiB). */
#define PROBE_MAX_INPUT (256u * 1024u * 1024u)

struct bytes {
    char *data;
    size_t len;
    size_t cap;
};

/* Reads a stream to its end; 0 on success, -1 when over the bound or out of memory. */
static int read_all(FCGX_Stream *in, struct bytes *into)
{
    for (;;) {
        if (into->cap - into->len < 65536) {
            size_t cap = into->cap ? into->cap * 2 : 131072;
            if (cap > PROBE_MAX_INPUT + 65536) cap = PROBE_MAX_INPUT + 65536;
            if (cap <= into->cap) return -1;
            char *data = realloc(into->data, cap);
            if (!data) return -1;
            into->data = data;
            into->cap = cap;
        }
        int n = FCGX_GetStr(into->data + into->len, (int) (into->cap - into->len), in);
        if (n <= 0) return 0;
        into->len += (size_t) n;
        if (into->len > PROBE_MAX_INPUT) return -1;
    }
}

/* The value of the last param called `name` (the contract: when a name appears twice, the last counts). */
static const char *param(FCGX_ParamArray envp, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (char **p = envp; p && *p; p++) {
        if (strncmp(*p, name, n) == 0 && (*p)[n] == '=') found = *p + n + 1;
    }
    return found;
}

/* A decimal param of 1..digits digits, at most max: 1 when valid, 0 when absent, -1 when malformed. */
static int number(FCGX_ParamArray envp, const char *name, int digits, uint64_t max, uint64_t *value)
{
    const char *raw = param(envp, name);
    if (!raw) return 0;
    size_t len = strlen(raw);
    if (len < 1 || len > (size_t) digits) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] < '0' || raw[i] > '9') return -1;
        v = v * 10 + (uint64_t) (raw[i] - '0');
    }
    if (v > max) return -1;
    *value = v;
    return 1;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 501: return "Not Implemented";
    default: return "Probe";
    }
}

static void head(FCGX_Stream *out, int status, const char *why, const char *extra)
{
    FCGX_FPrintF(out, "Status: %d %s\r\nContent-Type: application/octet-stream\r\n%s\r\n", status, why, extra);
}

static void answer(FCGX_Stream *out, int status, const char *body, size_t len)
{
    head(out, status, reason(status), "");
    if (len > 0) FCGX_PutStr(body, (int) len, out);
}

static void answer_text(FCGX_Stream *out, int status, const char *body)
{
    answer(out, status, body, strlen(body));
}

struct pair {
    const char *name;
    size_t name_len;
    const char *value;
};

static int compare_pairs(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n); /* memcmp compares as unsigned char: bytewise */
    if (c != 0) return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len ? 1 : 0;
}

static void echo_params(FCGX_Stream *out, FCGX_ParamArray envp)
{
    const char *prefix = param(envp, "PROBE_PREFIX");
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t count = 0;
    for (char **p = envp; p && *p; p++) count++;
    struct pair *pairs = calloc(count ? count : 1, sizeof *pairs);
    if (!pairs) {
        answer_text(out, 500, "out of memory\n");
        return;
    }
    size_t n = 0;
    for (char **p = envp; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq || (size_t) (eq - *p) < plen || memcmp(*p, prefix ? prefix : "", plen) != 0) continue;
        struct pair pair = { *p, (size_t) (eq - *p), eq + 1 };
        size_t i;
        for (i = 0; i < n; i++) {
            if (pairs[i].name_len == pair.name_len && memcmp(pairs[i].name, pair.name, pair.name_len) == 0) break;
        }
        pairs[i] = pair; /* a repeated name replaces the earlier value: the last counts */
        if (i == n) n++;
    }
    qsort(pairs, n, sizeof *pairs, compare_pairs);
    head(out, 200, "OK", "");
    for (size_t i = 0; i < n; i++) {
        FCGX_PutStr(pairs[i].name, (int) pairs[i].name_len, out);
        FCGX_PutChar('=', out);
        FCGX_PutS(pairs[i].value, out);
        FCGX_PutChar('\n', out);
    }
    free(pairs);
}

static void sleep_ms(uint64_t ms)
{
    struct timespec t = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0) {
    }
}

static void serve(FCGX_Request *req)
{
    FCGX_ParamArray envp = req->envp;
    const char *role = param(envp, "FCGI_ROLE");
    struct bytes stdin_bytes = { 0 }, data_bytes = { 0 };
    int too_large = read_all(req->in, &stdin_bytes);
    /* A Filter's FCGI_DATA follows its FCGI_STDIN; read both before answering. @see 6.4 */
    if (!too_large && role && strcmp(role, "FILTER") == 0 && FCGX_StartFilterData(req->in) == 0) too_large = read_all(req->in, &data_bytes);

    uint64_t exit_status = 0;
    int has_exit = number(envp, "PROBE_EXIT", 10, 4294967295u, &exit_status);
    if (too_large) {
        answer_text(req->out, 413, "too large\n");
    } else if (has_exit < 0) {
        answer_text(req->out, 400, "bad PROBE_EXIT\n");
    } else if (role && strcmp(role, "AUTHORIZER") == 0) {
        const char *auth = param(envp, "PROBE_AUTH");
        if (auth && strcmp(auth, "allow") == 0) {
            head(req->out, 200, "OK", "Variable-PROBE: ok\r\n");
            FCGX_PutS("authorized\n", req->out);
        } else {
            answer_text(req->out, 403, "forbidden\n");
        }
    } else {
        const char *action = param(envp, "PROBE_ACTION");
        if (!action) action = "echo-stdin";
        uint64_t n = 0;
        int ok;
        if (strcmp(action, "echo-stdin") == 0) {
            answer(req->out, 200, stdin_bytes.data, stdin_bytes.len);
        } else if (strcmp(action, "echo-data") == 0) {
            answer(req->out, 200, data_bytes.data, data_bytes.len);
        } else if (strcmp(action, "echo-param") == 0) {
            const char *name = param(envp, "PROBE_NAME");
            const char *value = name ? param(envp, name) : NULL;
            if (!name) answer_text(req->out, 400, "bad PROBE_NAME\n");
            else if (!value) answer_text(req->out, 404, "no such param\n");
            else answer_text(req->out, 200, value);
        } else if (strcmp(action, "echo-params") == 0) {
            echo_params(req->out, envp);
        } else if (strcmp(action, "bulk") == 0) {
            if ((ok = number(envp, "PROBE_SIZE", 10, 1073741824u, &n)) <= 0) {
                answer_text(req->out, 400, "bad PROBE_SIZE\n");
            } else {
                static char block[65520];
                for (size_t i = 0; i < sizeof block; i++) block[i] = (char) ('0' + i % 10);
                head(req->out, 200, "OK", "");
                for (uint64_t left = n; left > 0;) {
                    size_t chunk = left < sizeof block ? (size_t) left : sizeof block;
                    if (FCGX_PutStr(block, (int) chunk, req->out) < 0) break;
                    left -= chunk;
                }
            }
        } else if (strcmp(action, "sleep") == 0) {
            if ((ok = number(envp, "PROBE_MS", 6, 600000, &n)) <= 0) {
                answer_text(req->out, 400, "bad PROBE_MS\n");
            } else {
                sleep_ms(n);
                answer_text(req->out, 200, "slept\n");
            }
        } else if (strcmp(action, "stderr") == 0) {
            const char *text = param(envp, "PROBE_TEXT");
            if (text && *text) FCGX_PutS(text, req->err);
            answer_text(req->out, 200, "ok\n");
        } else if (strcmp(action, "status") == 0) {
            const char *s = param(envp, "PROBE_STATUS");
            if (!s || strlen(s) != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') {
                answer_text(req->out, 400, "bad PROBE_STATUS\n");
            } else {
                head(req->out, atoi(s), "Probe", "");
                FCGX_PutS("status\n", req->out);
            }
        } else {
            answer_text(req->out, 400, "unknown action\n");
        }
    }
    /* appStatus of FCGI_END_REQUEST; a malformed PROBE_EXIT leaves it 0. @see 5.5 */
    FCGX_SetExitStatus(has_exit > 0 ? (int) (uint32_t) exit_status : 0, req->out);
    free(stdin_bytes.data);
    free(data_bytes.data);
}

int main(void)
{
    const char *children = getenv("PROBE_CHILDREN");
    int workers = children ? atoi(children) : 1;
    if (workers < 1 || workers > 64) workers = 1;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < workers; i++) {
        pid_t pid = fork();
        if (pid == 0) break; /* a worker: serve like the first process */
        if (pid < 0) perror("probe: fork");
    }
    if (FCGX_Init() != 0) {
        fputs("probe: FCGX_Init failed\n", stderr);
        return 1;
    }
    FCGX_Request req;
    if (FCGX_InitRequest(&req, 0, 0) != 0) {
        fputs("probe: FCGX_InitRequest failed\n", stderr);
        return 1;
    }
    while (FCGX_Accept_r(&req) >= 0) {
        serve(&req);
        FCGX_Finish_r(&req);
    }
    return 0;
}
