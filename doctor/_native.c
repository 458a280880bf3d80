/* The traffic pass over a block of log lines in C: one pass per line, no Python object per line.

   The same classification and the same checks as the NumPy pass (doctor/traffic/lines.py and
   doctor/traffic/vector.py), done per line instead of per array of lines; each check names the part of the
   reference's regexes (doctor/traffic/parse.py) it stands for, and is at least as strict, so a line it accepts
   is read by the reference the very same way:

   - S: an azmlinfsrv summary `DATE TIME,ms L [pid] azmlinfsrv - METHOD /path STATUS N[.N]ms` (SUMMARY),
   - G: a `[pid] gunicorn.access - ` line of the inference server (TWIN_PID, then _ACCESS on its rest): the
     twin of the S line just before it (same pid, path and status: not a request) or a request of its own,
   - A: a plain access line (gunicorn default/common/combined, front-end, ingress-nginx) (_ACCESS),
   - U: uvicorn's access line (KServe, MLServer, vLLM, FastAPI) `INFO:     HOST - "METHOD path HTTP/D.D" STATUS ...`,
     maybe after vLLM's `(APIServer pid=N) ` (_UVICORN): a line without `[`, which neither SUMMARY nor _ACCESS can
     match, and whose time is its prefix's or none,
   - T: TorchServe's `TIME [LEVEL] WORKER ACCESS_LOG - /HOST "METHOD path HTTP/D.D" STATUS MS` (_TORCHSERVE), in a
     line where none of SUMMARY, _ACCESS and _UVICORN's fixed texts (`azmlinfsrv - `, `] "`, ` - "`) is,
   - B: BentoML's `TIME [LEVEL] [component] HOST (scheme=..,method=..,path=..) (status=..) N.NNNms` (_BENTOML), in a
     line without `"` or `azmlinfsrv - ` (none of the other shapes can match it),
   each maybe after a `--timestamps` prefix. Every other non-empty line is handed back to the caller, which
   reads it with the reference parser. A summary whose twin is not the next line makes the whole block go
   back (`None`): only the line-by-line parser, in order, can pair those.

   Times: a distinct minute is parsed once by the reference (`line_time`, through the caller's `minute`
   callable); the seconds are added here. Latency values: float() of the text (exact integer over a power of
   ten, or Python's own PyOS_string_to_double); buckets: round-half-even of log(v) / BUCKET with the C
   library's log, which is what math.log calls. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

#define MAX_LINE_BYTES 16384 /* doctor.traffic.parse.MAX_LINE_BYTES */
#define NONE_SECOND (-(INT64_C(1) << 62))
#define EMPTY_KEY INT64_MIN

typedef Py_ssize_t Pos;

/* ---- counts per int64 key (open addressing) ---- */

typedef struct {
    int64_t *keys, *vals;
    size_t cap, len;
} Tally;

static int tally_init(Tally *t, size_t cap) {
    t->cap = cap;
    t->len = 0;
    t->keys = PyMem_Malloc(cap * sizeof(int64_t));
    t->vals = PyMem_Malloc(cap * sizeof(int64_t));
    if (!t->keys || !t->vals) {
        PyMem_Free(t->keys);
        PyMem_Free(t->vals);
        t->keys = t->vals = NULL;
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < cap; i++) t->keys[i] = EMPTY_KEY;
    return 0;
}

static void tally_free(Tally *t) {
    PyMem_Free(t->keys);
    PyMem_Free(t->vals);
    t->keys = t->vals = NULL;
}

static size_t slot_of(const Tally *t, int64_t key) {
    size_t i = (size_t)((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (t->cap - 1);
    while (t->keys[i] != EMPTY_KEY && t->keys[i] != key) i = (i + 1) & (t->cap - 1);
    return i;
}

static int tally_add(Tally *t, int64_t key, int64_t n) {
    size_t i = slot_of(t, key);
    if (t->keys[i] == key) {
        t->vals[i] += n;
        return 0;
    }
    if (2 * (t->len + 1) > t->cap) { /* grow, then place */
        Tally bigger;
        if (tally_init(&bigger, t->cap * 2) < 0) return -1;
        for (size_t j = 0; j < t->cap; j++) {
            if (t->keys[j] != EMPTY_KEY) {
                size_t k = slot_of(&bigger, t->keys[j]);
                bigger.keys[k] = t->keys[j];
                bigger.vals[k] = t->vals[j];
            }
        }
        bigger.len = t->len;
        tally_free(t);
        *t = bigger;
        i = slot_of(t, key);
    }
    t->keys[i] = key;
    t->vals[i] = n;
    t->len++;
    return 0;
}

static PyObject *tally_dict(const Tally *t) {
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->keys[i] == EMPTY_KEY) continue;
        PyObject *k = PyLong_FromLongLong(t->keys[i]), *v = PyLong_FromLongLong(t->vals[i]);
        if (!k || !v || PyDict_SetItem(out, k, v) < 0) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return out;
}

/* ---- bytes ---- */

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int is_word(unsigned char c) { return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z') || c == '_'; }

/* A fixed-width pattern: `D` a digit, `.` any byte, else that byte; tested eight bytes at a time (the masks of
   doctor.traffic.swar.Pattern, laid out in memory order, so the byte order does not matter). */
typedef struct {
    const char *text;
    Pos size;
    int words;
    uint64_t keep[4], want[4], low[4], add[4], carry[4];
} Pattern;

static void pattern_init(Pattern *pt, const char *text) {
    unsigned char keep[32] = {0}, want[32] = {0}, low[32] = {0}, add[32] = {0}, carry[32] = {0};
    pt->text = text;
    pt->size = (Pos)strlen(text);
    pt->words = (int)((pt->size + 7) / 8);
    for (Pos i = 0; i < pt->size; i++) {
        if (text[i] == 'D') { /* high nibble 3, low nibble 0-9 (adding 6 does not carry into bit 4) */
            keep[i] = 0xF0, want[i] = 0x30, low[i] = 0x0F, add[i] = 0x06, carry[i] = 0x10;
        } else if (text[i] != '.') {
            keep[i] = 0xFF, want[i] = (unsigned char)text[i];
        }
    }
    memcpy(pt->keep, keep, 32);
    memcpy(pt->want, want, 32);
    memcpy(pt->low, low, 32);
    memcpy(pt->add, add, 32);
    memcpy(pt->carry, carry, 32);
}

/* Whether [p, p + size) lies before `e` and matches: whole words where they lie within the line, else byte by
   byte (nothing past the line's newline is read). */
static int matches(const Pattern *pt, const unsigned char *a, Pos p, Pos e) {
    if (p < 0 || p + pt->size > e) return 0;
    if (p + 8 * pt->words <= e) {
        uint64_t bad = 0;
        for (int j = 0; j < pt->words; j++) {
            uint64_t w;
            memcpy(&w, a + p + 8 * j, 8);
            bad |= ((w & pt->keep[j]) ^ pt->want[j]) | (((w & pt->low[j]) + pt->add[j]) & pt->carry[j]);
        }
        return bad == 0;
    }
    for (Pos i = 0; i < pt->size; i++) {
        unsigned char c = a[p + i];
        if (pt->text[i] == 'D' ? !(c >= '0' && c <= '9') : (pt->text[i] != '.' && (unsigned char)pt->text[i] != c))
            return 0;
    }
    return 1;
}

static Pattern STAMP, HEAD, AZML, GUNI, CLF, HTTP, STATUS, CODE_AFTER, JAVA_TIME;

/* Digits from p (which is at most e; a[e] is the line's newline), at most `cap` of them. */
static inline int run(const unsigned char *a, Pos p, int cap) {
    int k = 0;
    while (k < cap && is_digit(a[p + k])) k++;
    return k;
}

static inline int64_t number(const unsigned char *a, Pos p, int size) {
    int64_t v = 0;
    for (int k = 0; k < size; k++) v = v * 10 + (a[p + k] - '0');
    return v;
}

/* A year from 1970 at p: `int(timestamp)` is then the floor second, as the reference counts. */
static inline int year_ok(const unsigned char *a, Pos p) { return number(a, p, 4) >= 1970; }

/* What may follow a number the reference reads with `\b`, taken here: a space or the end of the line. */
static inline int ends(unsigned char c) { return c == ' ' || c == '\n'; }

static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* float() of `whole` digits, a dot and `frac` digits at p (frac 0: no dot): -1.0 with an exception set on error. */
static double decimal_value(const unsigned char *a, Pos p, int whole, int frac) {
    if (whole + frac <= 15) { /* both exact doubles: the division rounds as float() does */
        int64_t m = number(a, p, whole);
        if (frac) m = m * (int64_t)POW10[frac] + number(a, p + whole + 1, frac);
        return (double)m / POW10[frac];
    }
    char text[40];
    int size = whole + (frac ? 1 + frac : 0);
    memcpy(text, a + p, (size_t)size);
    text[size] = '\0';
    return PyOS_string_to_double(text, NULL, NULL);
}

/* `\d+\.\d+` at p then a space or the end (at most 8 + 8 digits, 15 in all): the value in *value, the digits
   before the dot in *whole (doctor.traffic.swar.Window.decimal, whose digit runs look at 16 bytes). */
static int decimal(const unsigned char *a, Pos p, double *value, int *whole) {
    int w = run(a, p, 16);
    *whole = w;
    if (w < 1 || w > 8 || a[p + w] != '.') return 0;
    int f = run(a, p + w + 1, 15 - w);
    if (f < 1 || f > 8 || w + f > 15 || !ends(a[p + w + 1 + f])) return 0;
    *value = decimal_value(a, p, w, f); /* 15 digits at most: exact, no error */
    return 1;
}

/* The position of the lowest set bit of a non-zero mask: one instruction (`tzcnt`/`bsf`) where the compiler has it,
   not a loop over the bits (a tenth of the traffic count's own time went to that loop). */
static inline int first_set(unsigned int mask) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctz(mask);
#else
    int k = 0;
    while (!(mask & 1u)) mask >>= 1, k++;
    return k;
#endif
}

/* memcmp(x, y, n) == 0 for the few bytes of a line's field, inline: eight bytes at a time, then byte by byte (the C
   library's call per field compared, with a variable size, was a tenth of the count of a BentoML log). */
static inline int same_bytes(const void *x, const void *y, Pos n) {
    const unsigned char *p = x, *q = y;
    for (; n >= 8; n -= 8, p += 8, q += 8) {
        uint64_t u, v;
        memcpy(&u, p, 8);
        memcpy(&v, q, 8);
        if (u != v) return 0;
    }
    for (; n > 0; n--)
        if (*p++ != *q++) return 0;
    return 1;
}

/* The first byte below 32 (a newline, tab, \r, NUL ...) at or after p, or n when there is none: sixteen bytes at
   a time where SSE2 is there (every x86-64), else eight (SWAR: the lowest flagged byte of `hasless` is exact). On
   the way, whether an `error=` (a probe's client error: the block is then counted in order) ends before it, its
   `error` at or after `from`: `*flagged` set (the pass over the block looking for it apart was 7 % of the count). */
static Pos next_control(const unsigned char *a, Pos p, Pos n, Pos from, int *flagged) {
#if defined(__SSE2__) || defined(_M_X64)
    const __m128i top = _mm_set1_epi8(31), equals = _mm_set1_epi8('=');
    for (; p + 16 <= n; p += 16) {
        __m128i w = _mm_loadu_si128((const __m128i *)(a + p));
        int control = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(w, top), w)); /* bytes <= 31 */
        int eq = _mm_movemask_epi8(_mm_cmpeq_epi8(w, equals));
        if (control) eq &= (control & -control) - 1; /* those before the control byte */
        for (; eq; eq &= eq - 1) {
            Pos q = p + first_set((unsigned int)eq);
            if (q - 5 >= from && a[q - 1] == 'r' && memcmp(a + q - 5, "error", 5) == 0) *flagged = 1;
        }
        if (control) return p + first_set((unsigned int)control);
    }
#else
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    for (; p + 8 <= n; p += 8) {
        uint64_t w;
        memcpy(&w, a + p, 8);
        if ((w - ones * 32) & ~w & high) break; /* a byte below 32 in these eight: found below */
        if (((w ^ (ones * '=')) - ones) & ~(w ^ (ones * '=')) & high) break; /* an `=`: looked at below */
    }
#endif
    for (; p < n; p++) {
        if (a[p] < 32) return p;
        if (a[p] == '=' && p - 5 >= from && memcmp(a + p - 5, "error", 5) == 0) *flagged = 1;
    }
    return n;
}

/* memchr for the short spans of one line: inline, sixteen bytes at a time where SSE2 is there (a call of the
   C library's per field of every access line, mostly a few dozen bytes, was a seventh of the count). */
static inline const unsigned char *find_byte(const unsigned char *from, unsigned char c, size_t size) {
    const unsigned char *p = from, *end = from + size;
#if defined(__SSE2__) || defined(_M_X64)
    const __m128i want = _mm_set1_epi8((char)c);
    for (; end - p >= 16; p += 16) {
        int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), want));
        if (mask) return p + first_set((unsigned int)mask);
    }
#endif
    for (; p < end; p++)
        if (*p == c) return p;
    return NULL;
}

/* find_byte for the first of two bytes. */
static inline const unsigned char *find_either(const unsigned char *from, unsigned char c, unsigned char d, size_t size) {
    const unsigned char *p = from, *end = from + size;
#if defined(__SSE2__) || defined(_M_X64)
    const __m128i one = _mm_set1_epi8((char)c), other = _mm_set1_epi8((char)d);
    for (; end - p >= 16; p += 16) {
        __m128i w = _mm_loadu_si128((const __m128i *)p);
        int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(w, one), _mm_cmpeq_epi8(w, other)));
        if (mask) return p + first_set((unsigned int)mask);
    }
#endif
    for (; p < end; p++)
        if (*p == c || *p == d) return p;
    return NULL;
}

static const char *HEALTH_PATHS[] = {"/", "/healthz", "/health", "/live", "/ready", "/liveness", "/readiness"};

/* is_health: GET or HEAD of a probe path (before any `?`). */
static int health(const unsigned char *a, Pos method, int method_size, Pos path, Pos path_size) {
    if (!((method_size == 3 && memcmp(a + method, "GET", 3) == 0) ||
          (method_size == 4 && memcmp(a + method, "HEAD", 4) == 0)))
        return 0;
    const unsigned char *q = find_byte(a + path, '?', (size_t)path_size);
    Pos core = q ? q - (a + path) : path_size;
    for (size_t i = 0; i < sizeof HEALTH_PATHS / sizeof *HEALTH_PATHS; i++) {
        if ((Pos)strlen(HEALTH_PATHS[i]) == core && memcmp(a + path, HEALTH_PATHS[i], (size_t)core) == 0) return 1;
    }
    return 0;
}

/* How common a byte is in a log line, roughly: 0 for the rare, up to 3 for spaces, digits, `.` and `-`. */
static int commonness(unsigned char c) {
    if (c == ' ' || c == '.' || c == '-' || is_digit(c)) return 3;
    if (c >= 'a' && c <= 'y') return 2;
    if (is_upper(c) || c == '/' || c == ':' || c == ',') return 1;
    return 0; /* ( ) [ ] " = z and the like */
}

/* A text looked for in lines, with where its rarest byte is (`commonness`): memchr for that byte, not the first
   (a space, the first byte of ` (status=`, stopped memchr at every word). Made once, at import. */
typedef struct {
    const char *text;
    Pos size, k;
} Needle;

static void needle_of(Needle *n, const char *text, Pos size) {
    n->text = text;
    n->size = size;
    n->k = 0;
    for (Pos i = 1; i < n->size; i++)
        if (commonness((unsigned char)text[i]) < commonness((unsigned char)text[n->k])) n->k = i;
}

static void needle_init(Needle *n, const char *text) { needle_of(n, text, (Pos)strlen(text)); }

/* Where the needle's text first starts in [s, e), or -1. An occurrence at p has the rarest byte at p + k: the
   anchors, in order, give the occurrences in order. */
static Pos find_text(const unsigned char *a, Pos s, Pos e, const Needle *n) {
    Pos size = n->size, k = n->k;
    for (Pos p = s; p + size <= e; p++) {
        const unsigned char *found = memchr(a + p + k, n->text[k], (size_t)(e - size + 1 - p));
        if (!found) return -1;
        p = found - a - k;
        if (same_bytes(a + p, n->text, size)) return p;
    }
    return -1;
}

static Needle AZML_DASH, CLOSE_QUOTE, DASH_QUOTE, ACCESS_LOG, SCHEME, CLIENT_ERROR;

static int holds(const unsigned char *a, Pos s, Pos e, const Needle *n) { return find_text(a, s, e, n) >= 0; }

/* Whether the byte at q, one of `"` or the rarest byte of `azmlinfsrv - `, is a `"` or that text's. */
static inline int quote_or_summary_at(const unsigned char *a, Pos s, Pos e, Pos q) {
    Pos at = q - AZML_DASH.k;
    return a[q] == '"' || (at >= s && at + AZML_DASH.size <= e && same_bytes(a + at, AZML_DASH.text, AZML_DASH.size));
}

/* Whether [s, e) holds a `"` or `azmlinfsrv - `: one pass for both (`find_either`), not one for each (a BentoML
   line, which has neither, was read whole twice). */
static int quote_or_summary(const unsigned char *a, Pos s, Pos e) {
    const unsigned char rare = (unsigned char)AZML_DASH.text[AZML_DASH.k];
    for (Pos p = s; p < e;) {
        const unsigned char *q = find_either(a + p, '"', rare, (size_t)(e - p));
        if (!q) return 0;
        if (quote_or_summary_at(a, s, e, q - a)) return 1;
        p = q - a + 1;
    }
    return 0;
}

/* ---- one line ---- */

enum { OTHER = 0, SUMMARY = 1, ACCESS = 2, UVICORN = 3, TORCHSERVE = 4, BENTOML = 5 };

typedef struct {
    int kind;     /* OTHER, SUMMARY, ACCESS (a plain access line or a G line, read), UVICORN, TORCHSERVE or BENTOML */
    int twin;     /* a G line (`[pid] gunicorn.access - `) */
    int stamped;  /* a `--timestamps` prefix */
    Pos s, x;     /* where the line starts, where it starts after the prefix */
    Pos pid, pid_size, path, path_size, when;
    Pos time_at;    /* U, T, B: the time text `line_time` reads (-1: none) */
    int time_width; /* its width: 19, or 20-25 with a zone */
    int code;
    double latency; /* NaN: none */
    int health;
} Row;

/* `YYYY-MM-DDTHH:MM:SS[.n{1,9}]Z ` at s: where the line proper starts after it, else s. */
static Pos after_stamp(const unsigned char *a, Pos s, Pos e, int *stamped) {
    *stamped = 0;
    if (s + 10 >= e || a[s + 4] != '-' || a[s + 10] != 'T' || !matches(&STAMP, a, s, e) || !year_ok(a, s)) return s;
    Pos zed = s + 19;
    if (a[zed] == '.') {
        int frac = run(a, zed + 1, 12);
        if (frac < 1 || frac > 9) return s;
        zed += 1 + frac;
    }
    if (a[zed] != 'Z' || a[zed + 1] != ' ') return s;
    *stamped = 1;
    return zed + 2;
}

/* The summary's request after `] azmlinfsrv - ` (at m): `METHOD /path DDD N[.N]ms` then a space or the end. */
static int read_summary(const unsigned char *a, Pos m, Pos e, Row *r) {
    int size = 0;
    while (size < 8 && is_upper(a[m + size])) size++;
    if (size < 1 || size > 7 || a[m + size] != ' ') return 0;
    Pos path = m + size + 1;
    if (a[path] != '/') return 0;
    Pos gap = 0; /* the path ends at the first space (the NumPy pass looks 32 bytes ahead; this one, to the end) */
    while (path + gap < e && a[path + gap] != ' ') gap++;
    if (path + gap >= e) return 0;
    Pos tail = path + gap;
    if (!matches(&CODE_AFTER, a, tail, e)) return 0;
    Pos ms = tail + 5;
    int whole = run(a, ms, 16), frac = 0, dot = a[ms + whole] == '.';
    if (dot) frac = run(a, ms + whole + 1, 16 - whole - 1);
    Pos unit = ms + whole + (dot ? 1 + frac : 0);
    if (whole < 1 || whole > 8 || (dot && frac < 1) || frac > 8) return 0;
    if (a[unit] != 'm' || a[unit + 1] != 's' || !ends(a[unit + 2])) return 0;
    double value = decimal_value(a, ms, whole, frac);
    if (value < 0) return -1;
    r->code = (int)number(a, tail + 1, 3);
    r->latency = value;
    r->path = path;
    r->path_size = gap;
    r->health = health(a, m, size, path, gap);
    return 1;
}

/* After the bytes field (at `at`): the end; ` "referer" "agent"` then the end; or either followed by
   ` [reqlen ]rt` and anything (the request time in *latency, ms). 0 where the reference may read it otherwise. */
static int read_tail(const unsigned char *a, Pos at, Pos e, double *latency) {
    unsigned char c0 = a[at], c1 = at < e ? a[at + 1] : 0;
    if (c0 == '\n') return 1;
    if (c0 != ' ') return 0;
    Pos start;
    if (is_digit(c1)) {
        start = at + 1;
    } else {
        if (c1 != '"') return 0;
        /* `"referer" "agent"`: no quote inside either */
        const unsigned char *q = find_byte(a + at + 2, '"', (size_t)(e - at - 2));
        if (!q) return 0;
        Pos agent = q - a;
        if (a[agent + 1] != ' ' || agent + 2 >= e || a[agent + 2] != '"') return 0;
        q = find_byte(a + agent + 3, '"', (size_t)(e - agent - 3));
        if (!q) return 0;
        Pos close = q - a;
        if (a[close + 1] == '\n') return 1;
        if (a[close + 1] != ' ') return 0;
        start = close + 2;
    }
    double value;
    int whole;
    if (!decimal(a, start, &value, &whole)) { /* `$request_length $request_time` */
        int ignored;
        if (whole < 1 || a[start + whole] != ' ' || !decimal(a, start + whole + 1, &value, &ignored)) return 0;
    }
    *latency = value * 1000.0;
    return 1;
}

/* `H I U [time] "METHOD path[ HTTP/D.D]" status bytes` from `begin`, then the tail unless `no_tail` (a twin
   right after its summary: no request of its own, so nothing after the bytes is read). */
static int read_access(const unsigned char *a, Pos begin, Pos e, int no_tail, Row *r) {
    const unsigned char *found = find_byte(a + begin, '[', (size_t)(e - begin));
    if (!found) return 0;
    Pos when = found - a; /* the first `[` is the time's: nothing before can be read as one */
    /* three words before the time, each after one space, the last two within the 31 bytes before it */
    if (when - 1 <= begin || a[when - 1] != ' ') return 0;
    Pos low = when - 32 > begin ? when - 32 : begin + 1;
    Pos last = when - 2;
    while (last >= low && a[last] != ' ') last--;
    if (last < low || last >= when - 2) return 0;
    Pos user = last - 1;
    while (user >= low && a[user] != ' ') user--;
    if (user < low || user >= last - 1 || user <= begin || a[user - 1] == ' ') return 0;
    /* `[DD/MMM/DDDD:DD:DD:DD +DDDD] "` */
    if (!matches(&CLF, a, when, e)) return 0;
    if (!is_word(a[when + 4]) || !is_word(a[when + 5]) || !is_word(a[when + 6])) return 0;
    if (a[when + 22] != '+' && a[when + 22] != '-') return 0;
    Pos method = when + 30;
    int size = 0;
    while (size < 8 && is_upper(a[method + size])) size++;
    if (size < 1 || size > 7 || a[method + size] != ' ') return 0;
    Pos path = method + size + 1;
    found = find_byte(a + method, '"', (size_t)(e - method));
    if (!found) return 0;
    Pos quote = found - a; /* the request's closing quote: no quote in the path */
    int http = quote - 9 >= 0 && matches(&HTTP, a, quote - 9, e);
    Pos stop = http ? quote - 9 : quote;
    if (stop <= path || (!http && a[quote + 1] != ' ')) return 0;
    for (Pos p = path; p < stop; p++)
        if (a[p] == ' ') return 0;
    /* no `[pid] ...` (a `[` then a digit) after the time */
    for (Pos p = when + 1; p < e; p++) {
        found = find_byte(a + p, '[', (size_t)(e - p));
        if (!found) break;
        p = found - a;
        if (is_digit(a[p + 1])) return 0;
    }
    int dash = quote + 2 < e && a[quote + 2] == '-';
    int col;
    if (dash) {
        if (a[quote + 1] != ' ' || a[quote + 3] != ' ') return 0;
        col = 4;
    } else {
        if (!matches(&STATUS, a, quote, e)) return 0;
        col = 6;
    }
    int count = a[quote + col] == '-' ? 1 : run(a, quote + col, 16 - col);
    if (count < 1) return 0;
    r->latency = NAN;
    if (!no_tail) {
        int tail = read_tail(a, quote + col + count, e, &r->latency);
        if (tail <= 0) return tail;
    }
    r->code = dash ? 0 : (int)number(a, quote + 2, 3);
    r->when = when;
    r->path = path;
    r->path_size = stop - path;
    r->health = health(a, method, size, path, stop - path);
    return 1;
}

/* `METHOD path HTTP/[\d.]+" DDD` at m (what _UVICORN and _TORCHSERVE read after the host's ` "`): method 1-16
   capitals, path up to the next space; the position after the status (0 when the shape is not there). */
static Pos request_line(const unsigned char *a, Pos m, Pos e, Row *r) {
    int size = 0;
    while (size < 17 && is_upper(a[m + size])) size++;
    if (size < 1 || size > 16 || a[m + size] != ' ') return 0;
    Pos path = m + size + 1, p = path;
    while (p < e && a[p] != ' ') p++;
    if (p == path || e - p < 7 || memcmp(a + p, " HTTP/", 6) != 0) return 0;
    Pos stop = p, version = p + 6;
    p = version;
    while (p < e && (is_digit(a[p]) || a[p] == '.')) p++;
    if (p == version || e - p < 5 || a[p] != '"' || a[p + 1] != ' ' || run(a, p + 2, 3) != 3) return 0;
    r->code = (int)number(a, p + 2, 3);
    r->path = path;
    r->path_size = stop - path;
    r->health = health(a, m, size, path, stop - path);
    return p + 5;
}

/* uvicorn's access line from x (after any `--timestamps` prefix), in a line without `[` (the caller checked): an
   optional `(APIServer pid=N) `, `INFO:` and spaces, then what _UVICORN reads, from its only possible start (no
   word before the host can be followed by ` - "`): `HOST - "METHOD path HTTP/[\d.]+" DDD` then a space or the end.
   Host 1-300 bytes (`\S{1,300}`), method 1-16 capitals; no space in either or in the path (the line is clean:
   no byte below 32 but its newline, so `\S` is "not a space"). */
static int read_uvicorn(const unsigned char *a, Pos x, Pos e, Row *r) {
    Pos p = x;
    if (a[p] == '(') {
        if (e - p < 18 || memcmp(a + p, "(APIServer pid=", 15) != 0) return 0;
        int size = run(a, p + 15, 12);
        if (size < 1 || size > 11 || a[p + 15 + size] != ')' || a[p + 16 + size] != ' ') return 0;
        p += 17 + size;
    }
    if (e - p < 7 || memcmp(a + p, "INFO: ", 6) != 0) return 0;
    p += 6;
    while (p < e && a[p] == ' ') p++;
    Pos host = p;
    while (p < e && a[p] != ' ') p++;
    if (p == host || p - host > 300 || e - p < 4 || memcmp(a + p, " - \"", 4) != 0) return 0;
    Pos after = request_line(a, p + 4, e, r);
    if (!after || !ends(a[after])) return 0;
    r->latency = NAN;
    return 1;
}

/* TorchServe's ACCESS_LOG line from x (after any prefix; `DDDD-DD-DDTDD:DD:DD,DDD [` there): at the first
   ` ACCESS_LOG - `, what _TORCHSERVE reads: `HOST "METHOD path HTTP/D.D" DDD MS` (host 1-300 bytes, MS 1-12 digits)
   then a space or the end. */
static int read_torchserve(const unsigned char *a, Pos s, Pos x, Pos e, Row *r) {
    if (holds(a, s, e, &AZML_DASH) || holds(a, s, e, &CLOSE_QUOTE) || holds(a, s, e, &DASH_QUOTE)) return 0;
    Pos m = find_text(a, x, e, &ACCESS_LOG);
    if (m < 0) return 0;
    Pos host = m + 14, p = host;
    while (p < e && a[p] != ' ') p++;
    if (p == host || p - host > 300 || e - p < 2 || a[p + 1] != '"') return 0;
    Pos after = request_line(a, p + 2, e, r);
    if (!after || a[after] != ' ') return 0;
    int digits = run(a, after + 1, 13);
    if (digits < 1 || digits > 12 || !ends(a[after + 1 + digits])) return 0;
    r->latency = decimal_value(a, after + 1, digits, 0); /* 12 digits: exact, no error */
    return 1;
}

/* `,[^)\s]{0,300}` then `)`, or `)`, at p: the position after the `)`, or 0. (The line is clean: no tab, \r or
   other control byte, so `\s` is a space.) The first `)` or space is looked for with `find_either`: a byte loop
   here was three tenths of the count of a BentoML log (`,type=application/json,length=23)` twice a line). */
static Pos rest_of_group(const unsigned char *a, Pos p, Pos e) {
    if (a[p] == ')') return p + 1;
    if (a[p] != ',') return 0;
    Pos stop = e < p + 302 ? e : p + 302; /* the `)` at most 301 bytes on */
    const unsigned char *q = find_either(a + p + 1, ')', ' ', (size_t)(stop - p - 1));
    return q && *q == ')' ? q - a + 1 : 0;
}

/* BentoML's access line from x, in a line without `"` or `azmlinfsrv - ` (the caller checked): at the first
   ` (scheme=`, what _BENTOML reads: the host (the word before it, 1-300 bytes), `(scheme=[a-z]{1,8},method=M,path=P
   ...) (status=DDD...) N[.N]ms` then a space or the end (N 1-12 digits, a fraction 1-9). */
static int read_bentoml(const unsigned char *a, Pos s, Pos x, Pos e, Row *r) {
    Pos m = find_text(a, x, e, &SCHEME);
    if (m <= s) return 0;
    Pos host = m;
    while (host > s && a[host - 1] != ' ') host--;
    if (host == m || m - host > 300) return 0;
    Pos p = m + 9, scheme = p;
    while (p < e && p - scheme < 9 && a[p] >= 'a' && a[p] <= 'z') p++;
    if (p == scheme || p - scheme > 8 || e - p < 8 || memcmp(a + p, ",method=", 8) != 0) return 0;
    Pos method = p + 8;
    int size = 0;
    while (size < 17 && is_upper(a[method + size])) size++;
    if (size < 1 || size > 16 || e - (method + size) < 6 || memcmp(a + method + size, ",path=", 6) != 0) return 0;
    Pos path = method + size + 6;
    p = path;
    while (p < e && a[p] != ',' && a[p] != ')' && a[p] != ' ') p++;
    if (p == path) return 0;
    Pos stop = p;
    p = rest_of_group(a, p, e);
    if (!p || e - p < 12 || memcmp(a + p, " (status=", 9) != 0 || run(a, p + 9, 3) != 3) return 0;
    Pos code = p + 9;
    p = rest_of_group(a, code + 3, e);
    if (!p || a[p] != ' ') return 0;
    Pos ms = p + 1;
    int whole = run(a, ms, 13), frac = 0, dot = a[ms + whole] == '.';
    if (dot) frac = run(a, ms + whole + 1, 10);
    if (whole < 1 || whole > 12 || (dot && (frac < 1 || frac > 9))) return 0;
    Pos unit = ms + whole + (dot ? 1 + frac : 0);
    if (e - unit < 2 || a[unit] != 'm' || a[unit + 1] != 's' || !ends(a[unit + 2])) return 0;
    double value = decimal_value(a, ms, whole, frac);
    if (value < 0) return -1;
    r->latency = value;
    r->code = (int)number(a, code, 3);
    r->path = path;
    r->path_size = stop - path;
    r->health = health(a, method, size, path, stop - path);
    return 1;
}

/* The width of `DDDD-DD-DDTDD:DD:DD` and its zone (`Z`, `+HHMM`, `+HH:MM`) at p when ` [` follows (what
   `line_time` reads of BentoML's time), else 0. */
static int zoned_time(const unsigned char *a, Pos p, Pos e) {
    if (e - p < 22 || !matches(&STAMP, a, p, e) || !year_ok(a, p)) return 0;
    Pos z = p + 19;
    int width;
    if (a[z] == 'Z') width = 20;
    else if ((a[z] == '+' || a[z] == '-') && run(a, z + 1, 4) == 4) width = 24;
    else if ((a[z] == '+' || a[z] == '-') && run(a, z + 1, 2) == 2 && a[z + 3] == ':' && run(a, z + 4, 2) == 2) width = 25;
    else return 0;
    return (e - p > width + 1 && a[p + width] == ' ' && a[p + width + 1] == '[') ? width : 0;
}

/* Classify the line [s, e) (a[e] is its newline; `clean`: no other byte below 32 in it) and read its request:
   -1 on error (exception set). */
static int read_line(const unsigned char *a, Pos s, Pos e, int clean, int after_summary, Row *r) {
    r->kind = OTHER;
    r->twin = 0;
    r->s = s;
    if (e - s > MAX_LINE_BYTES || !clean) return 0; /* \r, \t, ...: the reference's own splitting */
    Pos x = after_stamp(a, s, e, &r->stamped);
    r->x = x;
    /* the server's `DDDD-DD-DD DD:DD:DD,DDD L [pid] ` then `azmlinfsrv - ` or `gunicorn.access - ` */
    if (x + 26 < e && a[x + 4] == '-' && a[x + 26] == '[' && matches(&HEAD, a, x, e) && year_ok(a, x) &&
        is_upper(a[x + 24])) {
        int size = run(a, x + 27, 13);
        if (size >= 1 && size <= 12) {
            Pos close = x + 27 + size;
            r->pid = x + 27;
            r->pid_size = size;
            if (matches(&AZML, a, close, e)) {
                int ok = read_summary(a, close + 15, e, r);
                if (ok > 0) r->kind = SUMMARY;
                return ok < 0 ? -1 : 0;
            }
            if (matches(&GUNI, a, close, e)) {
                r->twin = 1;
                int ok = read_access(a, close + 20, e, after_summary, r);
                if (ok > 0) r->kind = ACCESS;
                return ok < 0 ? -1 : 0;
            }
        }
    }
    /* U, T, B: the time `line_time` reads is the prefix's, else the line's own (U has none) */
    r->time_at = r->stamped ? s : x;
    r->time_width = 19;
    if ((a[x] == 'I' || a[x] == '(') && !find_byte(a + s, '[', (size_t)(e - s))) {
        if (!r->stamped) r->time_at = -1;
        if (read_uvicorn(a, x, e, r) > 0) r->kind = UVICORN;
        return 0;
    }
    if (e - x > 24 && a[x + 4] == '-' && a[x + 10] == 'T') {
        if (matches(&JAVA_TIME, a, x, e) && year_ok(a, x)) {
            if (read_torchserve(a, s, x, e, r) > 0) r->kind = TORCHSERVE;
            return 0;
        }
        int width = zoned_time(a, x, e);
        if (width && !quote_or_summary(a, s, e)) {
            if (!r->stamped) r->time_width = width;
            int ok = read_bentoml(a, s, x, e, r);
            if (ok > 0) r->kind = BENTOML;
            return ok < 0 ? -1 : 0;
        }
    }
    /* a plain line must not start like an ISO time: the reference would take that as the line's time */
    if (!r->stamped && e - s > 4 && a[s + 4] == '-') return 0;
    int ok = read_access(a, x, e, 0, r);
    if (ok > 0) r->kind = ACCESS;
    return ok < 0 ? -1 : 0;
}

/* ---- seconds ---- */

typedef struct {
    PyObject *minute; /* callable(text: bytes, clf: bool) -> epoch second of the minute, or NONE_SECOND */
    char last[2][32];
    int width[2];
    int64_t base[2];
    int known[2];
} Clock;

/* The epoch second of the time text of `width` bytes at p (digits checked), its seconds at column `ss`. */
static int second_of(Clock *c, const unsigned char *a, Pos p, int width, int ss, int clf, int64_t *out) {
    const unsigned char *t = a + p;
    int second = (t[ss] - '0') * 10 + (t[ss + 1] - '0');
    /* the last minute's text (its seconds `00`) around the seconds, compared where the line lies: no copy per line */
    if (!c->known[clf] || c->width[clf] != width || !same_bytes(c->last[clf], t, ss) ||
        !same_bytes(c->last[clf] + ss + 2, t + ss + 2, width - ss - 2)) {
        char text[32];
        memcpy(text, t, (size_t)width);
        text[ss] = text[ss + 1] = '0';
        PyObject *found = PyObject_CallFunction(c->minute, "y#O", text, (Py_ssize_t)width, clf ? Py_True : Py_False);
        if (!found) return -1;
        int64_t base = PyLong_AsLongLong(found);
        Py_DECREF(found);
        if (base == -1 && PyErr_Occurred()) return -1;
        memcpy(c->last[clf], text, (size_t)width);
        c->width[clf] = width;
        c->base[clf] = base;
        c->known[clf] = 1;
    }
    *out = (c->base[clf] != NONE_SECOND && second < 60) ? c->base[clf] + second : NONE_SECOND;
    return 0;
}

/* ---- a block ---- */

enum { N_STATUS = 1000 }; /* statuses are three digits (`-`: 0) */

typedef struct {
    Tally status, per_second, per_second_503, buckets, buckets_ok;
    int64_t requests, latency_count, slow;
    double latency_max, timeout_ms, bucket;
    unsigned char failed[N_STATUS]; /* a failing status (0, 400-999) counted: its first line is in first[] */
    Pos first[N_STATUS][2];
} Counts;

/* Count the request of row r, the line [s, e). */
static int count_request(Counts *k, const Row *r, Pos e, int64_t second) {
    if (r->health) return 0;
    k->requests++;
    if ((r->code >= 400 || r->code == 0) && r->code < N_STATUS && !k->failed[r->code]) {
        k->failed[r->code] = 1; /* the line the reference would excerpt for it, if none is yet */
        k->first[r->code][0] = r->s;
        k->first[r->code][1] = e;
    }
    if (tally_add(&k->status, r->code, 1) < 0) return -1;
    if (second != NONE_SECOND) {
        if (tally_add(&k->per_second, second, 1) < 0) return -1;
        if (r->code == 503 && tally_add(&k->per_second_503, second, 1) < 0) return -1;
    }
    if (!isnan(r->latency)) {
        double value = r->latency > 0.001 ? r->latency : 0.001;
        int64_t bucket = (int64_t)nearbyint(log(value) / k->bucket); /* round(): half to even */
        if (tally_add(&k->buckets, bucket, 1) < 0) return -1;
        if (r->code >= 200 && r->code < 400 && tally_add(&k->buckets_ok, bucket, 1) < 0) return -1;
        k->latency_count++;
        if (value >= k->timeout_ms) k->slow++;
        if (value > k->latency_max) k->latency_max = value;
    }
    return 0;
}

static int same(const unsigned char *a, Pos p, Pos q, Pos size) { return same_bytes(a + p, a + q, size); }

static const char *MARK_TEXTS[] = {"] \"", "\" ", "gunicorn.access - ", "azmlinfsrv - ", " (status=",
                                   "\"response_code\":"}; /* fast._MAY_COUNT */
enum { SUMMARY_MARK = 3 }; /* "azmlinfsrv - " */
#define N_MARKS (sizeof MARK_TEXTS / sizeof *MARK_TEXTS)
static Needle MARKS[N_MARKS]; /* made from them at import */
static unsigned char MARK_ANCHORS[N_MARKS]; /* the marks' rarest bytes, each once */
static int N_ANCHORS;
static unsigned char ANCHORED[256]; /* per byte, the marks (bit i: MARKS[i]) whose rarest byte it is */

static void marks_init(void) {
    for (size_t i = 0; i < N_MARKS; i++) {
        needle_init(&MARKS[i], MARK_TEXTS[i]);
        unsigned char c = (unsigned char)MARKS[i].text[MARKS[i].k];
        if (!ANCHORED[c]) MARK_ANCHORS[N_ANCHORS++] = c;
        ANCHORED[c] |= (unsigned char)(1u << i);
    }
}

/* Whether the mark of bit i of `which` occurs with its rarest byte at p, within [s, e). The summary's mark only
   where what follows it is `[A-Z]+ /`, as both SUMMARY and LOOKS_ACCESS need: the server's other lines
   (`azmlinfsrv - Encountered Exception: …`, one per failed request) count for nothing, and handed back they were
   a seventh of the count of a mixed log. */
static int mark_at(const unsigned char *a, Pos s, Pos e, Pos p, unsigned which) {
    for (size_t i = 0; i < N_MARKS; i++) {
        const Needle *n = &MARKS[i];
        Pos at = p - n->k;
        if (!(which >> i & 1u) || at < s || at + n->size > e || !same_bytes(a + at, n->text, n->size))
            continue;
        if (i != SUMMARY_MARK) return 1;
        Pos q = at + n->size;
        while (q < e && is_upper(a[q])) q++;
        if (q > at + n->size && q + 1 < e && a[q] == ' ' && a[q + 1] == '/') return 1;
    }
    return 0;
}

/* Whether [s, e) holds one of the marks: one pass over the line for the marks' rarest bytes (sixteen bytes at a
   time where SSE2 is there), each found checked for the marks it anchors; not a search per mark (six passes over
   each line no shape took, a fifth of the count on a mixed log). */
static int marked(const unsigned char *a, Pos s, Pos e) {
    Pos p = s;
#if defined(__SSE2__) || defined(_M_X64)
    __m128i anchor[N_MARKS];
    for (int j = 0; j < N_ANCHORS; j++) anchor[j] = _mm_set1_epi8((char)MARK_ANCHORS[j]);
    for (; p + 16 <= e; p += 16) {
        __m128i w = _mm_loadu_si128((const __m128i *)(a + p)), hit = _mm_cmpeq_epi8(w, anchor[0]);
        for (int j = 1; j < N_ANCHORS; j++) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(w, anchor[j]));
        unsigned int mask = (unsigned int)_mm_movemask_epi8(hit);
        while (mask) {
            Pos q = p + first_set(mask);
            if (mark_at(a, s, e, q, ANCHORED[a[q]])) return 1;
            mask &= mask - 1;
        }
    }
#endif
    for (; p < e; p++)
        if (ANCHORED[a[p]] && mark_at(a, s, e, p, ANCHORED[a[p]])) return 1;
    return 0;
}

/* Hand lines [start, stop) back as one text (a run of lines no shape took). */
static int hand_back(PyObject *others, const unsigned char *a, Pos start, Pos stop) {
    PyObject *text = PyBytes_FromStringAndSize((const char *)a + start, stop - start);
    if (!text) return -1;
    int failed = PyList_Append(others, text);
    Py_DECREF(text);
    return failed;
}

/* The request's second: S lines read the line's first time; U lines their prefix's, if any; A/G lines the prefix's (or the server's) when
   `line_time` reads it, else the bracketed one. */
static int row_second(Clock *clock, const unsigned char *a, const Row *r, int64_t *second) {
    Pos iso = r->stamped ? r->s : r->x;
    if (r->kind == SUMMARY) return second_of(clock, a, iso, 19, 17, 0, second);
    *second = NONE_SECOND;
    if (r->kind >= UVICORN) return r->time_at < 0 ? 0 : second_of(clock, a, r->time_at, r->time_width, 17, 0, second);
    if ((r->stamped || r->twin) && second_of(clock, a, iso, 19, 17, 0, second) < 0) return -1;
    if (*second == NONE_SECOND) return second_of(clock, a, r->when + 1, 26, 18, 1, second);
    return 0;
}

/* The key of a G line (pid, path, status) and whether it is the twin of the summary before it. */
static int note_twin(PyObject *twins, const unsigned char *a, const Row *r, int paired) {
    PyObject *key = Py_BuildValue("y#y#iO", (const char *)a + r->pid, r->pid_size, (const char *)a + r->path,
                                  r->path_size, r->code, paired ? Py_True : Py_False);
    if (!key) return -1;
    int failed = PyList_Append(twins, key);
    Py_DECREF(key);
    return failed;
}

/* {status: (start, stop)}: where the first line of each failing status counted lies in the block. */
static PyObject *first_lines(const Counts *k) {
    PyObject *out = PyDict_New();
    for (int code = 0; out && code < N_STATUS; code++) {
        if (!k->failed[code]) continue;
        PyObject *key = PyLong_FromLong(code), *span = Py_BuildValue("nn", k->first[code][0], k->first[code][1]);
        if (!key || !span || PyDict_SetItem(out, key, span) < 0) Py_CLEAR(out);
        Py_XDECREF(key);
        Py_XDECREF(span);
    }
    return out;
}

static PyObject *build(Counts *k, PyObject *others, PyObject *twins) {
    PyObject *status = tally_dict(&k->status), *per_second = tally_dict(&k->per_second),
             *per_503 = tally_dict(&k->per_second_503), *buckets = tally_dict(&k->buckets),
             *buckets_ok = tally_dict(&k->buckets_ok), *firsts = first_lines(k);
    PyObject *out = NULL;
    if (status && per_second && per_503 && buckets && buckets_ok && firsts)
        out = Py_BuildValue("LOOOOOLLdOOO", (long long)k->requests, status, per_second, per_503, buckets, buckets_ok,
                            (long long)k->latency_count, (long long)k->slow, k->latency_max, others, twins, firsts);
    Py_XDECREF(firsts);
    Py_XDECREF(status);
    Py_XDECREF(per_second);
    Py_XDECREF(per_503);
    Py_XDECREF(buckets);
    Py_XDECREF(buckets_ok);
    return out;
}

PyDoc_STRVAR(count_doc,
"count(block, strict, minute, timeout_ms, bucket, twins)\n--\n\n"
"The requests of a block of lines, or None when a summary's twin is not the next line or a line holds `error=`\n"
"(a probe's client error): order matters then.\n"
"Returns (requests, status, per_second, per_second_503, buckets, buckets_ok, latency_count, slow, latency_max,\n"
"others, twins, firsts): the dicts are counts per key; `others` the texts of the lines no shape took (runs of whole\n"
"lines, a line longer than MAX_LINE_BYTES without a control byte cut to those; unless `strict`, only those\n"
"holding an access-line mark in what is handed back), for the reference parser; `twins`, when asked\n"
"for, the (pid, path, status, paired) of every gunicorn.access line read; `firsts` {status: (start, stop)}, the\n"
"first line counted of each failing status (0, 400-999). `minute(text, clf)`:\n"
"the epoch second of a minute's time text (seconds `00`), or -(1 << 62) when the reference reads none.");

static PyObject *count(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    int strict, want_twins;
    PyObject *minute;
    Counts k;
    memset(&k, 0, sizeof k);
    if (!PyArg_ParseTuple(args, "y*pOddp", &view, &strict, &minute, &k.timeout_ms, &k.bucket, &want_twins))
        return NULL;
    const unsigned char *a = view.buf;
    Pos n = view.len;
    Clock clock;
    memset(&clock, 0, sizeof clock);
    clock.minute = minute;
    PyObject *others = PyList_New(0), *twins = want_twins ? PyList_New(0) : Py_NewRef(Py_None), *result = NULL;
    if (!others || !twins || tally_init(&k.status, 64) < 0 || tally_init(&k.per_second, 256) < 0 ||
        tally_init(&k.per_second_503, 64) < 0 || tally_init(&k.buckets, 1024) < 0 ||
        tally_init(&k.buckets_ok, 1024) < 0)
        goto done;
    Row rows[2] = {{0}, {0}}, *prev = &rows[0], *row = &rows[1]; /* swapped per line: no copy of a Row */
    Pos run_start = -1, run_stop = -1, s = 0;
    int client_error = 0;
    while (s < n) {
        Pos e = next_control(a, s, n, s, &client_error);
        int clean = e < n && a[e] == '\n';
        if (e < n && !clean) {
            const unsigned char *nl = memchr(a + e, '\n', (size_t)(n - e));
            Pos end = nl ? nl - a : n;
            if (find_text(a, s, end, &CLIENT_ERROR) >= 0) client_error = 1;
            e = end;
        }
        if (client_error) { /* a probe's client errors: the caller counts the block in order */
            Py_INCREF(Py_None);
            result = Py_None;
            goto done;
        }
        int after_summary = prev->kind == SUMMARY;
        if (e < n) {
            if (read_line(a, s, e, clean, after_summary, row) < 0) goto done;
        } else {
            row->kind = OTHER; /* a last line without its newline: the reference reads it */
            row->twin = 0;
        }
        if (after_summary) { /* this line must be its twin: a G line of the same pid, path and status */
            if (!(row->kind == ACCESS && row->twin && row->pid_size == prev->pid_size && same(a, row->pid, prev->pid, prev->pid_size) &&
                  row->code == prev->code && row->path_size == prev->path_size && same(a, row->path, prev->path, prev->path_size))) {
                Py_INCREF(Py_None);
                result = Py_None;
                goto done;
            }
            if (want_twins && note_twin(twins, a, row, 1) < 0) goto done;
        } else if (row->kind != OTHER) {
            if (want_twins && row->twin && note_twin(twins, a, row, 0) < 0) goto done;
            int64_t second;
            if (row_second(&clock, a, row, &second) < 0 || count_request(&k, row, e, second) < 0) goto done;
        } else if (clean && e - s > MAX_LINE_BYTES) {
            /* a long line: the reference reads its first MAX_LINE_BYTES only, so only they are handed back (on
               their own), and only when they hold a mark */
            Pos cut = s + MAX_LINE_BYTES;
            if (strict || marked(a, s, cut)) {
                if (run_start >= 0 && hand_back(others, a, run_start, run_stop) < 0) goto done;
                run_start = -1;
                if (hand_back(others, a, s, cut) < 0) goto done;
            }
        } else if (e > s && (strict || marked(a, s, e))) {
            if (run_stop != s - 1 || run_start < 0) {
                if (run_start >= 0 && hand_back(others, a, run_start, run_stop) < 0) goto done;
                run_start = s;
            }
            run_stop = e;
        }
        if (after_summary) {
            memset(prev, 0, sizeof *prev); /* the twin read: the next line follows no summary */
        } else {
            Row *last = prev;
            prev = row;
            row = last;
        }
        s = e + 1;
    }
    if (prev->kind == SUMMARY) { /* its twin would be in the next block */
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    if (run_start >= 0 && hand_back(others, a, run_start, run_stop) < 0) goto done;
    result = build(&k, others, twins);
done:
    Py_XDECREF(others);
    Py_XDECREF(twins);
    tally_free(&k.status);
    tally_free(&k.per_second);
    tally_free(&k.per_second_503);
    tally_free(&k.buckets);
    tally_free(&k.buckets_ok);
    PyBuffer_Release(&view);
    return result;
}

/* Newlines in [p, n), sixteen bytes at a time where SSE2 is there: each byte lane counts its newlines (a compare
   gives -1 per newline, subtracted) for at most 255 steps, then the lanes are summed (`psadbw`). No branch per
   block on whether it held a newline (taken or not by chance on log lines: the hit lines' count was 85 % that). */
static Py_ssize_t newlines(const unsigned char *a, Pos p, Pos n) {
    Py_ssize_t total = 0;
#if defined(__SSE2__) || defined(_M_X64)
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (n - p >= 16) {
        Pos stop = n - p >= 16 * 255 ? p + 16 * 255 : n;
        __m128i lanes = zero;
        for (; stop - p >= 16; p += 16)
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(a + p)), nl));
        __m128i sums = _mm_sad_epu8(lanes, zero);
        total += _mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4);
    }
#endif
    for (; p < n; p++) total += a[p] == '\n';
    return total;
}

PyDoc_STRVAR(newlines_doc,
"newlines(buffer, start, stop)\n--\n\n"
"The number of newlines in buffer[start:stop] (bytes.count(b'\\n', start, stop)), counted without the GIL, so\n"
"the scan's threads count at once.");

static PyObject *count_newlines(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t start, stop, total;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &start, &stop)) return NULL;
    if (start < 0) start = 0;
    if (stop > view.len) stop = view.len;
    Py_BEGIN_ALLOW_THREADS
    total = start < stop ? newlines(view.buf, start, stop) : 0;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(total);
}

/* ---- the hyperscan scan's hit lines ---- */

typedef struct {
    Pos start; /* the line */
    long id;
} Hit;

static int by_start(const void *x, const void *y) { /* by line, then id: a line's ids come sorted, each once */
    const Hit *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The hits in by_start's order. Hyperscan reports in the order of match ends, so the lines mostly come in order
   already, each line's ids in the order their matches ended: then only each line's few ids are sorted (insertion),
   not the whole part's hits (the qsort was a sixth of this function's time on 1 GB of `mixed`). */
static void sort_hits(Hit *hits, Py_ssize_t size) {
    for (Py_ssize_t k = 1; k < size; k++) {
        if (hits[k].start < hits[k - 1].start) {
            qsort(hits, (size_t)size, sizeof(Hit), by_start);
            return;
        }
    }
    for (Py_ssize_t k = 1; k < size; k++) {
        Hit hit = hits[k];
        Py_ssize_t j = k;
        for (; j > 0 && hits[j - 1].start == hit.start && hits[j - 1].id > hit.id; j--) hits[j] = hits[j - 1];
        hits[j] = hit;
    }
}

/* ---- hyperscan's match reports, collected without a Python object per report ---- */

#define SEEN_IDS 1024

typedef struct {
    PyObject_HEAD
    Py_ssize_t size, cap;           /* pairs held, room */
    long long *pairs;               /* id, end, id, end, ... */
    uint64_t seen[SEEN_IDS / 64];   /* which ids below SEEN_IDS were reported */
    int seen_beyond;                /* an id from SEEN_IDS up was */
} Reports;

static void reports_dealloc(Reports *self) {
    PyMem_RawFree(self->pairs);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The match handler hyperscan's binding calls: (id, from, to, flags, context); keeps (id, to). */
static PyObject *reports_call(Reports *self, PyObject *args, PyObject *kwargs) {
    if (kwargs || !PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 3) {
        PyErr_SetString(PyExc_TypeError, "Reports(id, from, to, ...) takes hyperscan's match arguments");
        return NULL;
    }
    long long id = PyLong_AsLongLong(PyTuple_GET_ITEM(args, 0));
    long long end = PyLong_AsLongLong(PyTuple_GET_ITEM(args, 2));
    if ((id == -1 || end == -1) && PyErr_Occurred()) return NULL;
    if (self->size + 2 > self->cap) {
        Py_ssize_t cap = self->cap ? 2 * self->cap : 1024;
        long long *grown = PyMem_RawRealloc(self->pairs, sizeof(long long) * (size_t)cap);
        if (!grown) return PyErr_NoMemory();
        self->pairs = grown;
        self->cap = cap;
    }
    self->pairs[self->size++] = id;
    self->pairs[self->size++] = end;
    if (id >= 0 && id < SEEN_IDS)
        self->seen[id / 64] |= UINT64_C(1) << (id % 64);
    else
        self->seen_beyond = 1;
    Py_RETURN_NONE;
}

/* any_of(ids): whether any of these ids was reported (an id of SEEN_IDS or more: whether any such id was). */
static PyObject *reports_any_of(Reports *self, PyObject *ids) {
    PyObject *it = PyObject_GetIter(ids), *item;
    if (!it) return NULL;
    int found = 0;
    while (!found && (item = PyIter_Next(it))) {
        long long id = PyLong_AsLongLong(item);
        Py_DECREF(item);
        if (id == -1 && PyErr_Occurred()) break;
        found = (id >= 0 && id < SEEN_IDS) ? (int)((self->seen[id / 64] >> (id % 64)) & 1) : self->seen_beyond;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    return PyBool_FromLong(found);
}

static PyMethodDef reports_methods[] = {
    {"any_of", (PyCFunction)reports_any_of, METH_O, "any_of(ids)\n--\n\nWhether any of these ids was reported."},
    {NULL, NULL, 0, NULL}};

static Py_ssize_t reports_len(Reports *self) { return self->size; }

static PySequenceMethods reports_as_sequence = {.sq_length = (lenfunc)reports_len};

static PyTypeObject ReportsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "doctor._native.Reports",
    .tp_doc = PyDoc_STR("Reports()\n--\n\nA hyperscan match handler that keeps each report's id and end in C memory "
                        "(no Python object per report), for hit_lines. len(): ids and ends held."),
    .tp_basicsize = sizeof(Reports),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)reports_dealloc,
    .tp_call = (ternaryfunc)reports_call,
    .tp_as_sequence = &reports_as_sequence,
    .tp_methods = reports_methods,
};

PyDoc_STRVAR(hit_lines_doc,
"hit_lines(buffer, lo, hi, reports, packed=False, max_text=-1)\n--\n\n"
"The lines of buffer[lo:hi] that hyperscan's match ends (`reports`: a Reports, or id, end relative to lo, flattened)\n"
"lie in, as doctor.scan_hs._hit_lines then _number_lines: ([(line start, line number relative to the part's first\n"
"line, [ids, each once, in increasing order], the line's bytes without its newline)...] by start, the part's newline\n"
"count). After a newline, a match also stands for the next line (an empty match there). Everything but making the\n"
"result's objects runs without the GIL. `packed`: the same as bytes instead (int64s: the newline count, the number\n"
"of lines, then per line its start, length, relative number, number of ids, the ids and the line's bytes in whole\n"
"int64s, zero-padded), for `settle_lines` in another process (no Python object per line made, none sent). A line\n"
"longer than `max_text` (when not negative) is sent without its bytes, its length as -1 - length.");

/* The start of the line holding a[at] (lo at the latest): after the last newline before `at`. */
static Pos line_start(const unsigned char *a, Pos lo, Pos at) {
#ifdef __GLIBC__
    const unsigned char *nl = at > lo ? memrchr(a + lo, '\n', (size_t)(at - lo)) : NULL;
    return nl ? (Pos)(nl - a) + 1 : lo;
#else
    while (at > lo && a[at - 1] != '\n') at--;
    return at;
#endif
}

/* The int64 words a packed line's text of `size` bytes takes. */
static inline Py_ssize_t text_words(Pos size) { return (Py_ssize_t)((size + 7) / 8); }

/* The words of a line's text as `hit_lines` packs it: none when longer than `max_text` (not negative). */
static inline Py_ssize_t sent_words(Pos size, Py_ssize_t max_text) {
    return max_text >= 0 && size > max_text ? 0 : text_words(size);
}

typedef struct {
    Pos start, stop;       /* the line, without its newline */
    Py_ssize_t relative;   /* its number relative to the part's first line */
    Py_ssize_t first, end; /* its ids: hits[first:end], distinct */
} Line;

static PyObject *hit_lines(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t lo, hi;
    PyObject *reports;
    int packed = 0;
    Py_ssize_t max_text = -1;
    if (!PyArg_ParseTuple(args, "y*nnO|pn", &view, &lo, &hi, &reports, &packed, &max_text)) return NULL;
    PyObject *out = NULL, *fast = NULL;
    long long *pairs = NULL, *owned = NULL;
    Hit *hits = NULL;
    Line *lines = NULL;
    Py_ssize_t count = 0, size = 0, nlines = 0, newlines_total = 0;
    int bad = 0;
    if (lo < 0 || hi > view.len || lo > hi) {
        PyErr_SetString(PyExc_ValueError, "bounds outside the buffer");
        goto done;
    }
    if (PyObject_TypeCheck(reports, &ReportsType)) {
        pairs = ((Reports *)reports)->pairs;
        count = ((Reports *)reports)->size / 2;
    } else {
        fast = PySequence_Fast(reports, "reports must be a Reports or a sequence");
        if (!fast) goto done;
        count = PySequence_Fast_GET_SIZE(fast) / 2;
        owned = pairs = PyMem_Malloc(sizeof(long long) * (size_t)(2 * count + 1));
        if (!owned) {
            PyErr_NoMemory();
            goto done;
        }
        PyObject **items = PySequence_Fast_ITEMS(fast);
        for (Py_ssize_t k = 0; k < 2 * count; k++) {
            pairs[k] = PyLong_AsLongLong(items[k]);
            if (pairs[k] == -1 && PyErr_Occurred()) goto done;
        }
    }
    hits = PyMem_Malloc(sizeof(Hit) * (size_t)(2 * count + 1));
    lines = PyMem_Malloc(sizeof(Line) * (size_t)(2 * count + 1));
    if (!hits || !lines) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *a = view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < count; k++) { /* _line_starts */
        long id = (long)pairs[2 * k];
        long long end = pairs[2 * k + 1] + lo;
        if (pairs[2 * k + 1] < 0 || end > hi) {
            bad = 1;
            break;
        }
        if (end == lo) {
            hits[size++] = (Hit){lo, id};
            continue;
        }
        Pos start = line_start(a, lo, (Pos)end - 1);
        hits[size++] = (Hit){start, id};
        if (a[end - 1] == '\n' && end < hi) hits[size++] = (Hit){(Pos)end, id};
    }
    if (!bad) {
        sort_hits(hits, size);
        Pos counted_to = lo;
        Py_ssize_t relative = 0, kept = 0;
        for (Py_ssize_t k = 0; k < size;) {
            Pos start = hits[k].start;
            relative += newlines(a, counted_to, start);
            counted_to = start;
            Py_ssize_t first = kept;
            for (Py_ssize_t from = k; k < size && hits[k].start == start; k++) {
                if (k > from && hits[k].id == hits[k - 1].id) continue; /* sorted: a repeat is adjacent */
                hits[kept++] = hits[k];                                  /* kept <= k: compacted in place */
            }
            const unsigned char *eol = memchr(a + start, '\n', (size_t)(hi - start));
            lines[nlines++] = (Line){start, eol ? (Pos)(eol - a) : hi, relative, first, kept};
        }
        newlines_total = relative + newlines(a, counted_to, hi);
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "a match end outside the part");
        goto done;
    }
    if (packed) { /* per line: start, length, relative number, ids, then its text in whole words (zero-padded) */
        Py_ssize_t words = 2 + 4 * nlines + (nlines ? lines[nlines - 1].end : 0);
        for (Py_ssize_t j = 0; j < nlines; j++) words += sent_words(lines[j].stop - lines[j].start, max_text);
        out = PyBytes_FromStringAndSize(NULL, words * (Py_ssize_t)sizeof(int64_t));
        if (!out) goto done;
        int64_t *w = (int64_t *)PyBytes_AS_STRING(out);
        *w++ = newlines_total;
        *w++ = nlines;
        for (Py_ssize_t j = 0; j < nlines; j++) {
            Line *line = &lines[j];
            Pos size = line->stop - line->start;
            Py_ssize_t text = sent_words(size, max_text);
            *w++ = line->start;
            *w++ = text || !size ? size : -1 - size; /* a line whose bytes are not sent: -1 - its length */
            *w++ = line->relative;
            *w++ = line->end - line->first;
            for (Py_ssize_t k = line->first; k < line->end; k++) *w++ = hits[k].id;
            if (text) {
                w[text - 1] = 0; /* the last word's padding */
                memcpy(w, a + line->start, (size_t)size);
                w += text;
            }
        }
        goto done;
    }
    out = PyList_New(nlines);
    if (!out) goto done;
    for (Py_ssize_t j = 0; j < nlines; j++) {
        Line *line = &lines[j];
        PyObject *ids = PyList_New(line->end - line->first);
        if (!ids) goto fail;
        for (Py_ssize_t k = line->first; k < line->end; k++) {
            PyObject *id = PyLong_FromLong(hits[k].id);
            if (!id) {
                Py_DECREF(ids);
                goto fail;
            }
            PyList_SET_ITEM(ids, k - line->first, id);
        }
        PyObject *row = Py_BuildValue("nnNy#", (Py_ssize_t)line->start, line->relative, ids,
                                      (const char *)a + line->start, (Py_ssize_t)(line->stop - line->start));
        if (!row) goto fail;
        PyList_SET_ITEM(out, j, row);
    }
    {
        PyObject *result = Py_BuildValue("Nn", out, newlines_total);
        out = result;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyMem_Free(lines);
    PyMem_Free(hits);
    PyMem_Free(owned);
    Py_XDECREF(fast);
    PyBuffer_Release(&view);
    return out;
}


PyDoc_STRVAR(settle_lines_doc,
"settle_lines(packed, number, memo, found, one_off)\n--\n\n"
"The packed hit lines of a part whose first line is `number` (`hit_lines(..., packed=True)`: each line's start,\n"
"relative number, ids and text), read back in the process the part's scanning process answers, with the lines seen\n"
"before settled here: a line whose\n"
"first byte is not in `one_off` and whose `memo` entry ([ids, result, known], doctor.scan_hs) holds the same ids\n"
"as whole (entry[0] a list) takes `found[start] = (number, line, result)` when its result is not empty, and nothing\n"
"more. Every other line gets `found[start] = None`, kept in line order for the caller to settle or delete, and is\n"
"returned: ([(start, number, [ids], line)...], the part's newline count; a line sent without its bytes is its\n"
"length there, and never looked up). What HyperscanScanner._confirm does for\n"
"a line seen before, without a Python call, a list of ids or a row per such line.");

/* Whether `entry` (a memo value) holds exactly these ids as a whole line's answer. */
static int same_ids(PyObject *entry, const int64_t *ids, int64_t nids) {
    if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 3) return 0;
    PyObject *known = PyList_GET_ITEM(entry, 0);
    if (!PyList_CheckExact(known) || PyList_GET_SIZE(known) != nids) return 0;
    for (Py_ssize_t k = 0; k < nids; k++) {
        PyObject *id = PyList_GET_ITEM(known, k);
        if (!PyLong_CheckExact(id)) return 0;
        int overflow = 0;
        long long value = PyLong_AsLongLongAndOverflow(id, &overflow);
        if (overflow || value != ids[k]) return 0;
    }
    return 1;
}

static PyObject *settle_lines(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer packed, one_off;
    Py_ssize_t number;
    PyObject *memo, *found;
    if (!PyArg_ParseTuple(args, "y*nO!O!y*", &packed, &number, &PyDict_Type, &memo, &PyDict_Type, &found, &one_off))
        return NULL;
    PyObject *rest = NULL, *result = NULL;
    const int64_t *w = packed.buf, *last = w + packed.len / (Py_ssize_t)sizeof(int64_t);
    if (packed.len % (Py_ssize_t)sizeof(int64_t) || last - w < 2 || w[1] < 0 || w[1] > (last - w) / 4) goto bad;
    int64_t newlines_total = w[0], nlines = w[1];
    w += 2;
    rest = PyList_New(0);
    if (!rest) goto done;
    for (Py_ssize_t j = 0; j < nlines; j++) {
        if (last - w < 4) goto bad;
        int64_t start = w[0], size = w[1], relative = w[2], nids = w[3];
        w += 4;
        if (start < 0 || size < -PY_SSIZE_T_MAX || nids < 0 || nids > last - w || relative < 0 ||
            relative > PY_SSIZE_T_MAX - number)
            goto bad;
        const int64_t *ids = w;
        w += nids;
        PyObject *line, *entry = NULL;
        if (size < 0) { /* its bytes not sent (a long line): its length, for the caller to read it */
            line = PyLong_FromLongLong(-1 - size);
        } else {
            if (size > (last - w) * (int64_t)sizeof(int64_t)) goto bad;
            const unsigned char *text = (const unsigned char *)w;
            w += text_words((Pos)size);
            line = PyBytes_FromStringAndSize((const char *)text, (Py_ssize_t)size);
            if (line && (size == 0 || !memchr(one_off.buf, text[0], (size_t)one_off.len))) {
                entry = PyDict_GetItemWithError(memo, line);
                if (!entry && PyErr_Occurred()) {
                    Py_DECREF(line);
                    goto fail;
                }
                Py_XINCREF(entry); /* held while objects are made (a collection could run code that changes memo) */
            }
        }
        if (!line) goto fail;
        PyObject *key = PyLong_FromLongLong(start);
        if (!key) {
            Py_XDECREF(entry);
            Py_DECREF(line);
            goto fail;
        }
        int failed;
        if (entry && same_ids(entry, ids, nids)) {
            PyObject *answer = PyList_GET_ITEM(entry, 1);
            Py_INCREF(answer);
            int nonempty = PyObject_IsTrue(answer);
            failed = nonempty < 0;
            if (nonempty > 0) {
                PyObject *at = PyLong_FromSsize_t(number + (Py_ssize_t)relative);
                PyObject *value = at ? PyTuple_Pack(3, at, line, answer) : NULL; /* no format string read per line */
                failed = !value || PyDict_SetItem(found, key, value) < 0;
                Py_XDECREF(value);
                Py_XDECREF(at);
            }
            Py_DECREF(answer);
        } else {
            PyObject *idlist = PyList_New((Py_ssize_t)nids);
            PyObject *row = NULL;
            if (idlist) {
                Py_ssize_t k = 0;
                for (; k < nids; k++) {
                    PyObject *id = PyLong_FromLongLong(ids[k]);
                    if (!id) break;
                    PyList_SET_ITEM(idlist, k, id);
                }
                PyObject *at = k == nids ? PyLong_FromSsize_t(number + (Py_ssize_t)relative) : NULL;
                if (at) row = PyTuple_Pack(4, key, at, idlist, line);
                Py_XDECREF(at);
            }
            failed = !row || PyDict_SetItem(found, key, Py_None) < 0 || PyList_Append(rest, row) < 0;
            Py_XDECREF(row);
            Py_XDECREF(idlist);
        }
        Py_DECREF(key);
        Py_XDECREF(entry);
        Py_DECREF(line);
        if (failed) goto fail;
    }
    if (w != last) goto bad;
    result = Py_BuildValue("Nn", rest, (Py_ssize_t)newlines_total);
    rest = NULL;
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError, "packed hit lines are malformed");
fail:
    Py_CLEAR(rest);
done:
    PyBuffer_Release(&packed);
    PyBuffer_Release(&one_off);
    return result;
}


PyDoc_STRVAR(find_doc,
"find(buffer, start, end, text)\n--\n\n"
"buffer.find(text, start, end) for a non-empty text and 0 <= start <= end <= len(buffer): memchr for the text's\n"
"rarest byte, without the GIL (bytes.find ran the two-way search over a whole block for `error=`: ~0.5 s a GB).");

static PyObject *find_py(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t start, end, size;
    const char *text;
    if (!PyArg_ParseTuple(args, "y*nny#", &view, &start, &end, &text, &size)) return NULL;
    if (size < 1 || start < 0 || start > end || end > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "find needs a non-empty text and 0 <= start <= end <= len(buffer)");
        return NULL;
    }
    Needle n;
    needle_of(&n, text, (Pos)size);
    Pos at;
    Py_BEGIN_ALLOW_THREADS
    at = find_text(view.buf, start, end, &n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(at);
}


/* ---- the lines of a block that hold each of many fixed texts (the `re` scan's required texts) ---- */

static unsigned char LOWER[256];

PyDoc_STRVAR(line_starts_doc,
"line_starts(buffer, texts, folds, cap)\n--\n\n"
"For each text (bytes) of `texts`, the starts of the lines of buffer that hold it (a text whose `folds` item is true\n"
"given lowered and found in the buffer with ASCII letters lowered, as bytes.lower), in increasing order,\n"
"each once; None for a text held by more than `cap` lines (looking for it there is no cheaper than a search of the\n"
"whole buffer) and for a text shorter than two bytes. A line ends at a newline; a text that holds a newline is on no\n"
"line. One pass for all texts, without the GIL.");

static PyObject *line_starts(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    PyObject *texts_arg, *folds_arg;
    Py_ssize_t cap;
    if (!PyArg_ParseTuple(args, "y*OOn", &view, &texts_arg, &folds_arg, &cap)) return NULL;
    PyObject *out = NULL, *texts = PySequence_Fast(texts_arg, "texts must be a sequence");
    PyObject *folds = texts ? PySequence_Fast(folds_arg, "folds must be a sequence") : NULL;
    int32_t *head = NULL, *next = NULL;
    const unsigned char **text = NULL;
    Py_ssize_t *length = NULL, *count = NULL, *last = NULL, *room = NULL, **starts = NULL;
    unsigned char *fold = NULL, *many = NULL;
    Py_ssize_t n = 0;
    if (!folds) goto done;
    n = PySequence_Fast_GET_SIZE(texts);
    if (PySequence_Fast_GET_SIZE(folds) != n || n > INT32_MAX - 1 || cap < 0) {
        PyErr_SetString(PyExc_ValueError, "texts and folds differ in length, or cap < 0");
        goto done;
    }
    if (cap > view.len + 1) cap = view.len + 1;
    head = PyMem_Malloc(sizeof(int32_t) * 65536);
    next = PyMem_Malloc(sizeof(int32_t) * (size_t)(n + 1));
    text = PyMem_Malloc(sizeof(*text) * (size_t)(n + 1));
    length = PyMem_Malloc(sizeof(*length) * (size_t)(n + 1));
    count = PyMem_Calloc((size_t)(n + 1), sizeof(*count));
    last = PyMem_Malloc(sizeof(*last) * (size_t)(n + 1));
    room = PyMem_Calloc((size_t)(n + 1), sizeof(*room));
    starts = PyMem_Calloc((size_t)(n + 1), sizeof(*starts));
    fold = PyMem_Malloc((size_t)(n + 1));
    many = PyMem_Calloc((size_t)(n + 1), 1);
    if (!head || !next || !text || !length || !count || !last || !room || !starts || !fold || !many) {
        PyErr_NoMemory();
        goto done;
    }
    for (int k = 0; k < 65536; k++) head[k] = -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(texts, k);
        int folded = PyObject_IsTrue(PySequence_Fast_GET_ITEM(folds, k));
        if (folded < 0) goto done;
        if (!PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "texts must be bytes");
            goto done;
        }
        text[k] = (const unsigned char *)PyBytes_AS_STRING(item);
        length[k] = PyBytes_GET_SIZE(item);
        fold[k] = (unsigned char)folded;
        next[k] = -1;
        last[k] = -1;
        if (length[k] < 2) many[k] = 1;  /* a text of one byte (or none) is everywhere: searched the usual way */
        else if (memchr(text[k], '\n', (size_t)length[k])) length[k] = 0;  /* on no line: never chained */
    }
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        if (length[k] < 2 || many[k]) continue;
        int key = LOWER[text[k][0]] << 8 | LOWER[text[k][1]];
        next[k] = head[key];
        head[key] = (int32_t)k;
    }
    const unsigned char *a = view.buf;
    Py_ssize_t len = view.len, line = 0;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i + 1 < len; i++) {
        if (a[i] == '\n') {
            line = i + 1;
            continue;
        }
        int key = LOWER[a[i]] << 8 | LOWER[a[i + 1]];
        for (int32_t k = head[key]; k >= 0; k = next[k]) {
            if (many[k] || last[k] == line || length[k] > len - i) continue;
            const unsigned char *t = text[k];
            Py_ssize_t j = 0, m = length[k];
            if (fold[k]) {
                while (j < m && LOWER[a[i + j]] == t[j]) j++;
            } else {
                while (j < m && a[i + j] == t[j]) j++;
            }
            if (j < m) continue;
            if (count[k] == cap) {
                many[k] = 1;
                continue;
            }
            if (count[k] == room[k]) {  /* grown as the text is found: most texts are on few lines or none */
                Py_ssize_t more = room[k] ? room[k] * 2 : 16;
                if (more > cap) more = cap;
                Py_ssize_t *grown = realloc(starts[k], sizeof(Py_ssize_t) * (size_t)more);
                if (!grown) {
                    failed = 1;
                    break;
                }
                starts[k] = grown;
                room[k] = more;
            }
            starts[k][count[k]++] = line;
            last[k] = line;
        }
        if (failed) break;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    out = PyList_New(n);
    if (!out) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item;
        if (many[k]) {
            item = Py_None;
            Py_INCREF(item);
        } else {
            item = PyList_New(count[k]);
            for (Py_ssize_t c = 0; item && c < count[k]; c++) {
                PyObject *number = PyLong_FromSsize_t(starts[k][c]);
                if (!number) Py_CLEAR(item);
                else PyList_SET_ITEM(item, c, number);
            }
        }
        if (!item) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, k, item);
    }
done:
    if (starts)
        for (Py_ssize_t k = 0; k < n; k++) free(starts[k]);  /* grown without the GIL: the C allocator's */
    PyMem_Free(starts);
    PyMem_Free(room);
    PyMem_Free(head);
    PyMem_Free(next);
    PyMem_Free(text);
    PyMem_Free(length);
    PyMem_Free(count);
    PyMem_Free(last);
    PyMem_Free(fold);
    PyMem_Free(many);
    Py_XDECREF(texts);
    Py_XDECREF(folds);
    PyBuffer_Release(&view);
    return out;
}

/* ---- a line's time (doctor.logs.line_time, whose Python is the reference: tests/test_line_time.py) ---- */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m) {
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 29 : DAYS[m - 1];
}

/* What `datetime(y, mo, d, h, mi, tzinfo=utc) - offset + timedelta(seconds=s, microseconds=us)` gives (as
   doctor.logs does it, each step's ValueError or OverflowError making None), as a new reference. */
static PyObject *utc_time(int y, int mo, int d, int h, int mi, int64_t offset, int s, int us) {
    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59)
        Py_RETURN_NONE;
    static int64_t lowest = 0, highest = 0; /* 0001-01-01T00:00 and the start of 9999-12-31's last second */
    if (!highest) {
        lowest = days_from_civil(1, 1, 1) * 86400;
        highest = days_from_civil(9999, 12, 31) * 86400 + 86399;
    }
    int64_t start = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 - offset; /* the minute's start */
    if (start < lowest || start > highest) Py_RETURN_NONE;
    int64_t when = start + s;
    if (when > highest) Py_RETURN_NONE;
    int64_t days = when >= 0 ? when / 86400 : -((-when + 86399) / 86400);
    int64_t rest = when - days * 86400;
    int year, month, day;
    civil_from_days(days, &year, &month, &day);
    return PyDateTimeAPI->DateTime_FromDateAndTime(year, month, day, (int)(rest / 3600), (int)(rest / 60 % 60),
                                                   (int)(rest % 60), us, PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
}

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static Pattern ISO_TIME, CLF_TIME; /* logs._ISO's fixed part (the `[T ]` checked apart), logs._CLF's */

/* logs._ISO at the line's start: `[?YYYY-MM-DD[T ]HH:MM:SS([.,]F{1,9})?\s?(Z|[+-]HH:?MM)?`; 1 when it matches. */
static int iso_time(const unsigned char *a, Py_ssize_t n, PyObject **out) {
    Py_ssize_t p = n > 0 && a[0] == '[';
    if (!matches(&ISO_TIME, a, p, n) || (a[p + 10] != 'T' && a[p + 10] != ' ')) return 0;
    Py_ssize_t q = p + 19;
    int us = 0;
    if (q + 1 < n && (a[q] == '.' || a[q] == ',') && is_digit(a[q + 1])) {
        int k = 0;
        while (k < 9 && q + 1 + k < n && is_digit(a[q + 1 + k])) {
            if (k < 6) us = us * 10 + (a[q + 1 + k] - '0');
            k++;
        }
        for (int pad = k; pad < 6; pad++) us *= 10;
        q += 1 + k;
    }
    if (q < n && is_space(a[q])) q++;
    int64_t offset = 0;
    if (q + 2 < n && (a[q] == '+' || a[q] == '-') && run(a, q + 1, 2) == 2) {
        Py_ssize_t m = q + 3 < n && a[q + 3] == ':' ? q + 4 : q + 3;
        if (m + 1 < n && run(a, m, 2) == 2)
            offset = (a[q] == '-' ? -1 : 1) * (number(a, q + 1, 2) * 3600 + number(a, m, 2) * 60);
    }
    *out = utc_time((int)number(a, p, 4), (int)number(a, p + 5, 2), (int)number(a, p + 8, 2), (int)number(a, p + 11, 2),
                    (int)number(a, p + 14, 2), offset, (int)number(a, p + 17, 2), us);
    return 1;
}

/* logs._CLF searched in the line's first 200 bytes: `[DD/Mon/YYYY:HH:MM:SS +ZZZZ]`, the first one there. */
static PyObject *clf_time(const unsigned char *a, Py_ssize_t n) {
    static const char *MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";
    Py_ssize_t end = n < 200 ? n : 200;
    for (Py_ssize_t p = 0; p + 28 <= end; p++) {
        const unsigned char *b = a + p;
        if (!matches(&CLF_TIME, a, p, end) || !is_word(b[4]) || !is_word(b[5]) || !is_word(b[6]) ||
            (b[22] != '+' && b[22] != '-'))
            continue;
        int month = 0;
        for (int i = 0; i < 12; i++)
            if (memcmp(b + 4, MONTHS + 3 * i, 3) == 0) month = i + 1;
        if (!month) Py_RETURN_NONE;
        int64_t offset = (b[22] == '-' ? -1 : 1) * (number(b, 23, 2) * 3600 + number(b, 25, 2) * 60);
        return utc_time((int)number(b, 8, 4), month, (int)number(b, 1, 2), (int)number(b, 13, 2),
                        (int)number(b, 16, 2), offset, (int)number(b, 19, 2), 0);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(line_time_doc,
"line_time(line)\n--\n\n"
"doctor.logs.line_time in C: the time (aware UTC datetime) a log line starts with, else the first common-log-format\n"
"time in its first 200 bytes; None if none (or one no datetime can hold).");

static PyObject *line_time(PyObject *Py_UNUSED(self), PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *found = NULL;
    if (!iso_time(view.buf, view.len, &found)) found = clf_time(view.buf, view.len);
    PyBuffer_Release(&view);
    return found;
}

PyDoc_STRVAR(add_counts_doc,
"add_counts(mine, theirs)\n--\n\n"
"mine[key] = mine.get(key, 0) + count for each key and count of the dict `theirs`, in its order (new keys after\n"
"mine's): doctor.traffic.stats.add_counts in C. Every count is added, int or not, as `+` adds them.");

static PyObject *add_counts_py(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *mine, *theirs, *key, *value;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &mine, &PyDict_Type, &theirs)) return NULL;
    if (mine == theirs) {
        PyErr_SetString(PyExc_ValueError, "add_counts of a dict to itself");
        return NULL;
    }
    Py_ssize_t pos = 0;
    while (PyDict_Next(theirs, &pos, &key, &value)) {
        PyObject *had = PyDict_GetItemWithError(mine, key); /* borrowed */
        if (!had && PyErr_Occurred()) return NULL;
        PyObject *sum = had ? PyNumber_Add(had, value) : Py_NewRef(value);
        if (!sum) return NULL;
        int failed = PyDict_SetItem(mine, key, sum);
        Py_DECREF(sum);
        if (failed < 0) return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(die_with_parent_doc,
"die_with_parent(signal)\n--\n\n"
"Linux: prctl(PR_SET_PDEATHSIG, signal), the kernel sends this process `signal` when its parent dies (a forked\n"
"child of the check: doctor.follow.die_with_parent, without importing ctypes in every child). OSError elsewhere.");

static PyObject *die_with_parent_py(PyObject *Py_UNUSED(self), PyObject *arg) {
    long sig = PyLong_AsLong(arg);
    if (sig == -1 && PyErr_Occurred()) return NULL;
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0) != 0) return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
#else
    PyErr_SetString(PyExc_OSError, "PR_SET_PDEATHSIG is Linux's");
    return NULL;
#endif
}

static PyMethodDef methods[] = {{"count", count, METH_VARARGS, count_doc},
                                {"line_time", line_time, METH_O, line_time_doc},
                                {"hit_lines", hit_lines, METH_VARARGS, hit_lines_doc},
                                {"settle_lines", settle_lines, METH_VARARGS, settle_lines_doc},
                                {"find", find_py, METH_VARARGS, find_doc},
                                {"add_counts", add_counts_py, METH_VARARGS, add_counts_doc},
                                {"die_with_parent", die_with_parent_py, METH_O, die_with_parent_doc},
                                {"newlines", count_newlines, METH_VARARGS, newlines_doc},
                                {"line_starts", line_starts, METH_VARARGS, line_starts_doc},
                                {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "doctor._native",
                                    "The traffic pass over a block of log lines and a newline count, in C (see doctor.traffic.native).",
                                    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    for (int c = 0; c < 256; c++) LOWER[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    pattern_init(&STAMP, "DDDD-DD-DDTDD:DD:DD"); /* --timestamps prefix (then `Z ` or `.n{1,9}Z `) */
    pattern_init(&HEAD, "DDDD-DD-DD DD:DD:DD,DDD . [");  /* the server's logging time, level, `[` */
    pattern_init(&AZML, "] azmlinfsrv - ");
    pattern_init(&GUNI, "] gunicorn.access - ");
    pattern_init(&CLF, "[DD/.../DDDD:DD:DD:DD .DDDD] \""); /* access-log time, then the request's opening quote */
    pattern_init(&HTTP, " HTTP/D.D\"");
    pattern_init(&STATUS, "\" DDD ");
    pattern_init(&CODE_AFTER, " DDD ");
    pattern_init(&JAVA_TIME, "DDDD-DD-DDTDD:DD:DD,DDD ["); /* TorchServe's log4j time, then its level */
    pattern_init(&ISO_TIME, "DDDD-DD-DD.DD:DD:DD");
    needle_init(&AZML_DASH, "azmlinfsrv - ");
    needle_init(&CLOSE_QUOTE, "] \"");
    needle_init(&DASH_QUOTE, " - \"");
    needle_init(&ACCESS_LOG, " ACCESS_LOG - ");
    needle_init(&SCHEME, " (scheme=");
    needle_init(&CLIENT_ERROR, "error=");
    marks_init();
    pattern_init(&CLF_TIME, "[DD/.../DDDD:DD:DD:DD .DDDD]");
    if (PyType_Ready(&ReportsType) < 0) return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (!mod) return NULL;
    if (PyModule_AddObjectRef(mod, "Reports", (PyObject *)&ReportsType) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
