#pragma once

/* SSH signatures of Git commits, checked as git does with gpg.format=ssh and
 * gpg.ssh.allowedSignersFile, that is as `ssh-keygen -Y verify` does (OpenSSH's PROTOCOL.sshsig
 * and ssh-keygen(1), ALLOWED SIGNERS). OpenSSL 3 (libcrypto) does the cryptography; nothing here
 * does I/O or logs.
 *
 * Keys: ssh-ed25519, ecdsa-sha2-nistp256, -nistp384 and -nistp521, and ssh-rsa of 1024 to 16384
 * bits with the rsa-sha2-256 and rsa-sha2-512 signature algorithms (a SHA-1 "ssh-rsa" signature
 * is refused, as ssh-keygen refuses it). Security keys (sk-*), certificates (cert-authority, and
 * *-cert-v01@openssh.com keys) and DSA are not supported: an allowed signers file naming them is
 * refused, so that a key is never silently left out.
 *
 * Messages never show key material: a key is named by its fingerprint as ssh-keygen -l prints it,
 * "SHA256:" and the unpadded base64 of the SHA-256 of its blob. Text taken from a signature (its
 * namespace) is shown escaped (escape.h). */

#include <stddef.h>
#include <stdint.h>

/* An allowed signers file, parsed. Opaque. */
struct sshsig_signers;

/* Parses the 'size' bytes at 'data' as an allowed signers file named 'file' (the name is used in
 * messages only, and copied). One entry a line; blank lines and lines whose first non-blank
 * character is '#' are skipped; LF or CRLF line ends. An entry is
 *
 *   PRINCIPALS [OPTIONS] KEYTYPE BASE64-KEY [COMMENT]
 *
 * PRINCIPALS is a comma-separated list, in double quotes when it holds blanks; the first
 * principal is what sshsig_verify() reports. OPTIONS is a comma-separated list, names in any case:
 * namespaces="PATTERN-LIST" (the namespaces the key may sign for, patterns as ssh's: '*', '?',
 * and '!' to exclude), valid-after="TIME" and valid-before="TIME" (the key is valid from, and up
 * to, that time, both included). A TIME is YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally
 * followed by "Z" or "UTC"; without them ssh-keygen reads it in its local time zone, this reads
 * it as UTC always (the same on a host whose time zone is UTC). Option values must be quoted, as
 * ssh-keygen requires. The base64 of the key must be canonical, its blob of the type KEYTYPE names.
 * cert-authority, sk-* keys, certificates and DSA keys are refused with an error saying they are
 * not supported.
 *
 * Fails closed: one bad line fails the whole file. Returns 0 and *ret (owned by the caller; free
 * it with sshsig_signers_free()), also for a file with no entry; -EINVAL with "FILE:LINE: reason"
 * in *reterr_message (owned by the caller; may be NULL when the caller wants none); -ENOMEM. */
int sshsig_signers_parse(const char *file, const void *data, size_t size, struct sshsig_signers **ret,
                         char **reterr_message);

/* Frees what sshsig_signers_parse() returned. Accepts NULL; returns NULL. */
struct sshsig_signers *sshsig_signers_free(struct sshsig_signers *s);
static inline void sshsig_signers_freep(struct sshsig_signers **s) {
        if (*s)
                (void) sshsig_signers_free(*s);
}

/* Checks the 'signature_size' bytes at 'signature', an armored SSH signature ("-----BEGIN SSH
 * SIGNATURE-----" lines as git keeps it in a commit's gpgsig header, LF or CRLF line ends,
 * nothing but blanks after its END line), over the 'data_size' bytes at 'data' (for a commit: the
 * commit without its gpgsig header), against the signers 's', as `ssh-keygen -Y verify -n
 * NAMESPACE -Overify-time=TIME` does:
 *
 *   - the blob is "SSHSIG", version 1, and its public key, namespace, reserved field, hash
 *     algorithm (sha256 or sha512) and signature, with nothing after them;
 *   - its namespace is 'sig_namespace' ("git" for commits);
 *   - its key is listed in 's' (the same blob, byte for byte);
 *   - its signature verifies, with that key, over "SSHSIG", then as SSH strings the namespace, an
 *     empty reserved field (as OpenSSH does, whatever the blob's), the hash algorithm and the hash
 *     of the data;
 *   - an entry with that key allows 'sig_namespace' (namespaces=) and 'time_sec' (seconds since
 *     the epoch, UTC; git passes the committer time) lies within its valid-after and valid-before.
 *     Entries are tried in file order; the first that allows both gives the principal.
 *
 * Returns 1 when verified, with *ret_principal (may be NULL) the first principal of that entry,
 * owned by the caller. Returns 0 when not, with the reason in *reterr_message ("namespace 'file',
 * not 'git'", "signed with key SHA256:..., which is not in 'FILE'", "bad signature ...", "key ...
 * is not valid before 2027-01-01T00:00:00Z"). Returns -EINVAL, with the reason, when the armor or
 * the blob (the signature in it included) is not well formed; -ENOMEM; -EIO when OpenSSL fails
 * otherwise. *reterr_message is owned by the caller; 'reterr_message' may be NULL. Nothing is kept
 * of any argument. */
int sshsig_verify(const struct sshsig_signers *s, const char *sig_namespace, const void *signature,
                  size_t signature_size, const void *data, size_t data_size, uint64_t time_sec,
                  char **ret_principal, char **reterr_message);
