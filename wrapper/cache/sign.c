/*
 * sign.c — what an archive's record says and who vouches for it (§10, "The store is a
 * trust boundary"): its SHA-256 and size, and an Ed25519 signature over them with the app and
 * the commit, all done by OpenSSL's libcrypto.
 *
 * The record is the store object NAME.sig beside the archive NAME, five lines of text, then the
 * signature line when a key signed it:
 *
 *   ccwrap-cache v1
 *   app APP
 *   commit COMMIT
 *   sha256 HEX
 *   size BYTES
 *   ed25519 BASE64
 *
 * The signature covers the first five lines, which a restore rebuilds from what it asked for
 * (its own app and commit) and what it fetched (the archive's own hash and size), never from
 * the record: an archive and its record copied under another commit's or app's name do not
 * verify.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "tally.h"
#include "store.h"
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAGIC "ccwrap-cache v1\n"

/* libcrypto's SHA-256 calls fail only without memory (the digest is built in): as x*alloc. */
void *hash_new(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
        out_of_memory();
    return c;
}

void hash_add(void *h, const void *p, size_t n)
{
    if (EVP_DigestUpdate(h, p, n) != 1)
        out_of_memory();
}

void hash_end(void *h, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    if (EVP_DigestFinal_ex(h, md, &len) != 1 || len != 32)
        out_of_memory();
    EVP_MD_CTX_free(h);
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

int fd_sha256(int fd, char hex[65], uint64_t *size)
{
    size_t cap = (size_t)1 << 20;
    char *buf = xmalloc(cap);
    void *h = hash_new();
    int rc = 0;

    *size = 0;
    if (lseek(fd, 0, SEEK_SET) != 0)
        rc = -1;
    while (rc == 0) {
        ssize_t n = read(fd, buf, cap);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        hash_add(h, buf, (size_t)n);
        *size += (uint64_t)n;
    }
    hash_end(h, hex);
    free(buf);
    if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
        rc = -1;
    if (rc < 0)
        log_error("build cache: the fetched archive: %s", strerror(errno));
    return rc;
}

/* What a key file's fd holds, as OpenSSL's last error says it. */
static const char *ssl_error(void)
{
    static char text[160];
    unsigned long e = ERR_get_error();

    if (!e)
        return "not a PEM key";
    ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return text;
}

/* A key never asks for a passphrase: there is no one to type it. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/*
 * The PEM key in PATH: private (a signing key, which only its owner may read) or public. An
 * EVP_PKEY, or NULL after reporting. ccwrap has checked PATH against the trust rule; here the
 * opened file itself is checked, so a file swapped since then is seen.
 */
static void *key_read(const char *var, const char *path, bool private)
{
    struct stat st;
    EVP_PKEY *k;
    FILE *f;
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        log_error("build cache: %s %s: %s", var, path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_error("build cache: %s %s: not a regular file; give the path of a PEM key", var, path);
        close(fd);
        return NULL;
    }
    if (private && st.st_uid != geteuid() && st.st_uid != 0) {
        log_error(
            "build cache: %s %s: owned by uid %u, not by this user (uid %u) or root; chown %u %s",
            var, path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
        close(fd);
        return NULL;
    }
    if (private && (st.st_mode & 077)) {
        log_error("build cache: %s %s: readable or writable by group or others (mode %03o): a "
                  "signing key is its "
                  "owner's alone; chmod 600 %s",
                  var, path, (unsigned)(st.st_mode & 0777), path);
        close(fd);
        return NULL;
    }
    f = fdopen(fd, "r"); /* fails only without memory */
    if (!f)
        out_of_memory();
    k = private ? PEM_read_PrivateKey(f, NULL, no_passphrase, NULL)
                : PEM_read_PUBKEY(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!k) {
        log_error("build cache: %s %s: cannot read it as a PEM %s key (%s); make one with %s", var,
                  path, private ? "private" : "public", ssl_error(),
                  private ? "openssl genpkey -algorithm ed25519 -out FILE"
                          : "openssl pkey -in PRIVATE -pubout -out FILE");
        return NULL;
    }
    if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
        log_error("build cache: %s %s: not an Ed25519 key; make one with openssl genpkey "
                  "-algorithm ed25519",
                  var, path);
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

int keys_load(struct keys *k, bool sign, bool verify)
{
    const char *s = getenv("CCWRAP_CACHE_SIGN_KEY"), *v = getenv("CCWRAP_CACHE_VERIFY_KEY");

    memset(k, 0, sizeof *k);
    if (sign && s && *s) {
        k->sign_path = s;
        if (!(k->sign = key_read("cache_sign_key", s, true)))
            return -1;
    }
    if (verify && v && *v) {
        k->verify_path = v;
        if (!(k->verify = key_read("cache_verify_key", v, false)))
            return -1;
    }
    return 0;
}

void keys_free(struct keys *k)
{
    EVP_PKEY_free(k->sign);
    EVP_PKEY_free(k->verify);
    memset(k, 0, sizeof *k);
}

/* The five lines a signature covers. Allocated. */
static char *signed_text(const char *app, const char *commit, const char *sha, uint64_t size)
{
    char *t;

    t = xasprintf(RECORD_MAGIC "app %s\ncommit %s\nsha256 %s\nsize %llu\n", app, commit, sha,
                  (unsigned long long)size);
    return t;
}

char *record_make(const struct keys *k, const char *app, const char *commit, const char *sha,
                  uint64_t size)
{
    char *body = signed_text(app, commit, sha, size), *out;
    unsigned char sig[64], b64[4 * ((sizeof sig + 2) / 3) + 1];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *c;

    if (!k->sign)
        return body;
    c = EVP_MD_CTX_new();
    if (!c || EVP_DigestSignInit(c, NULL, NULL, NULL, k->sign) != 1 ||
        EVP_DigestSign(c, sig, &siglen, (const unsigned char *)body, strlen(body)) != 1) {
        log_error("build cache: cache_sign_key %s: cannot sign: %s", k->sign_path, ssl_error());
        EVP_MD_CTX_free(c);
        free(body);
        return NULL;
    }
    EVP_MD_CTX_free(c);
    EVP_EncodeBlock(b64, sig, (int)siglen);
    out = xasprintf("%sed25519 %s\n", body, (char *)b64);
    free(body);
    return out;
}

/* The value of the line "WORD value" of TEXT, copied into OUT; false when there is none. */
static bool record_field(const char *text, const char *word, char *out, size_t len)
{
    size_t w = strlen(word);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        size_t n = strcspn(p, "\n");

        if (n > w && strncmp(p, word, w) == 0 && p[w] == ' ' && n - w - 1 < len) {
            memcpy(out, p + w + 1, n - w - 1);
            out[n - w - 1] = '\0';
            return true;
        }
    }
    return false;
}

enum refusal record_check(const struct keys *k, const char *text, const char *app,
                          const char *commit, const char *sha, uint64_t size, const char *shown)
{
    char rsha[80], rsize[32], b64[128];
    unsigned char sig[96];
    char *body, want[32];
    int n;
    EVP_MD_CTX *c;
    bool ok;

    if (!text) {
        if (k->verify) {
            log_error("build cache: unsigned archive: %s has no signature (no %s.sig), and "
                      "cache_verify_key %s is "
                      "set; save it from a build that signs (cache_sign_key)",
                      shown, shown, k->verify_path);
            return REFUSED_UNSIGNED;
        }
        log_detail("build cache: %s has no record of its SHA-256 (saved by an older ccwrap); "
                   "restored unchecked",
                   shown);
        return REFUSED_NONE;
    }
    snprintf(want, sizeof want, "%llu", (unsigned long long)size);
    if (strncmp(text, RECORD_MAGIC, strlen(RECORD_MAGIC)) != 0 ||
        !record_field(text, "sha256", rsha, sizeof rsha) ||
        !record_field(text, "size", rsize, sizeof rsize)) {
        log_error("build cache: corrupt archive record: %s.sig is not a ccwrap-cache v1 record; a "
                  "save replaces it",
                  shown);
        return REFUSED_CORRUPT;
    }
    if (strcmp(rsha, sha) != 0 || strcmp(rsize, want) != 0) {
        log_error("build cache: corrupt archive (sha256 mismatch): %s is %s bytes with SHA-256 "
                  "%.16s…, its record "
                  "says %s bytes, %.16s…; a save replaces it",
                  shown, want, sha, rsize, rsha);
        return REFUSED_CORRUPT;
    }
    if (!k->verify) {
        /* Hash and size agree: the five lines differ from this key's only in app or commit. */
        body = signed_text(app, commit, sha, size);
        ok = strncmp(text, body, strlen(body)) == 0;
        free(body);
        if (!ok) {
            log_error("build cache: corrupt archive: %s was recorded for another app or commit; a "
                      "save replaces it",
                      shown);
            return REFUSED_CORRUPT;
        }
        return REFUSED_NONE;
    }
    if (!record_field(text, "ed25519", b64, sizeof b64)) {
        log_error("build cache: unsigned archive: %s.sig holds no signature, and cache_verify_key "
                  "%s is set; save "
                  "it from a build that signs (cache_sign_key)",
                  shown, k->verify_path);
        return REFUSED_UNSIGNED;
    }
    n = EVP_DecodeBlock(sig, (const unsigned char *)b64, (int)strlen(b64));
    /* EVP_DecodeBlock counts base64's padding as zero bytes: 88 characters give 66. */
    body = signed_text(app, commit, sha, size);
    c = EVP_MD_CTX_new();
    ok = c && n >= 64 && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->verify) == 1 &&
         EVP_DigestVerify(c, sig, 64, (const unsigned char *)body, strlen(body)) == 1;
    EVP_MD_CTX_free(c);
    free(body);
    ERR_clear_error();
    if (!ok) {
        log_error("build cache: signature does not match: %s is not signed for app %s, commit %s "
                  "by the key of "
                  "cache_verify_key %s",
                  shown, app, commit, k->verify_path);
        return REFUSED_SIGNATURE;
    }
    return REFUSED_NONE;
}

/* The record of NAME: its SHA-256, size and signature, whoever stores it. */
int record_save(struct store *s, const struct keys *k, const char *name, const char *enc,
                const struct tally *t)
{
    char *text = record_make(k, s->app, enc, t->sha256, t->bytes), *rname;
    int rc;

    if (!text)
        return -1;
    rname = xasprintf("%s" RECORD_SUFFIX, name);
    rc = store_put_text(s, rname, text);
    free(rname);
    free(text);
    return rc;
}
