#!/bin/bash
# Makes the test vectors of tests/test-sshsig.c, once: fresh keys (the private halves are thrown
# away), signatures made by ssh-keygen -Y sign, and a commit signed by git with gpg.format=ssh.
# Every signature is checked with ssh-keygen -Y verify before it is kept. Running it again
# replaces every vector.
#   tests/data/sshsig/generate.sh    (needs ssh-keygen, git, python3 and openssl)
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sshsig-vectors.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

key() {  # key NAME ssh-keygen-ARGS...
        name=$1
        shift
        ssh-keygen -q -N '' -C "$name@example.com" -f "$tmp/$name" "$@"
        cp "$tmp/$name.pub" "$name.pub"
}
key ed25519 -t ed25519
key ecdsa256 -t ecdsa -b 256
key ecdsa384 -t ecdsa -b 384
key ecdsa521 -t ecdsa -b 521
key rsa -t rsa -b 3072
key other -t ed25519

printf 'apiVersion: v1\nkind: Connector\nid: my-connector\n' >data
{
        echo "# The signers of the test vectors: principals, options, key."
        echo "ed25519@example.com $(cut -d' ' -f1,2 ed25519.pub)"
        echo "ecdsa256@example.com $(cut -d' ' -f1,2 ecdsa256.pub) a comment"
        echo "ecdsa384@example.com,second@example.com $(cut -d' ' -f1,2 ecdsa384.pub)"
        echo "ecdsa521@example.com namespaces=\"git,file\" $(cut -d' ' -f1,2 ecdsa521.pub)"
        echo "rsa@example.com $(cut -d' ' -f1,2 rsa.pub)"
} >allowed_signers

sign() {  # sign KEY NAMESPACE OUTPUT [ssh-keygen-ARGS...]
        k=$1 ns=$2 out=$3
        shift 3
        ssh-keygen -q -Y sign -n "$ns" -f "$tmp/$k" "$@" <data >"$out"
        ssh-keygen -Y verify -f allowed_signers -I "$k@example.com" -n "$ns" -s "$out" <data
}
for k in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa; do
        sign $k git data.$k.sig
done
sign ed25519 git data.ed25519-sha256.sig -O hashalg=sha256
sign ed25519 file data.ed25519-file.sig
ssh-keygen -q -Y sign -n git -f "$tmp/other" <data >data.other.sig
# ssh-keygen signs with rsa-sha2-512 only: an rsa-sha2-256 signature is made here with openssl,
# from the same key in PEM form, and put together as PROTOCOL.sshsig says.
cp "$tmp/rsa" "$tmp/rsa.pem"
ssh-keygen -q -p -N '' -m PEM -f "$tmp/rsa.pem" >/dev/null
python3 - "$tmp/rsa.pem" rsa.pub data >data.rsa-sha2-256.sig <<'PY'
import base64, hashlib, struct, subprocess, sys
pem, pub, data = sys.argv[1:]
s = lambda b: struct.pack(">I", len(b)) + b
key = base64.b64decode(open(pub).read().split()[1])
signed = b"SSHSIG" + s(b"git") + s(b"") + s(b"sha512") + s(hashlib.sha512(open(data, "rb").read()).digest())
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem], input=signed, capture_output=True, check=True).stdout
blob = b"SSHSIG" + struct.pack(">I", 1) + s(key) + s(b"git") + s(b"") + s(b"sha512") + s(s(b"rsa-sha2-256") + s(sig))
b64 = base64.b64encode(blob).decode()
print("-----BEGIN SSH SIGNATURE-----")
for i in range(0, len(b64), 70):
    print(b64[i:i + 70])
print("-----END SSH SIGNATURE-----")
PY
ssh-keygen -Y verify -f allowed_signers -I rsa@example.com -n git -s data.rsa-sha2-256.sig <data
ssh-keygen -lf other.pub | cut -d' ' -f2 >other.fingerprint

# A commit as the daemon reads it: its signature, and the commit without its gpgsig header (what
# was signed), as git cat-file shows them; and its committer time.
repo=$tmp/repo
git init -q "$repo"
printf 'id: my-connector\n' >"$repo/connector.yaml"
git -C "$repo" add connector.yaml
GIT_AUTHOR_DATE='2024-05-01T12:00:00Z' GIT_COMMITTER_DATE='2024-05-01T12:00:00Z' \
        git -C "$repo" -c user.name=Test -c user.email=ed25519@example.com -c gpg.format=ssh \
        -c user.signingkey="$tmp/ed25519" -c commit.gpgsign=false commit -q -S -m 'Add my-connector'
git -C "$repo" cat-file commit HEAD >"$tmp/commit"
awk '/^gpgsig /{sig=1; sub(/^gpgsig /, ""); print > "commit.sig"; next}
     sig && /^ /{sub(/^ /, ""); print > "commit.sig"; next}
     {sig=0; print > "commit.payload"}' "$tmp/commit"
git -C "$repo" log -1 --format=%ct >commit.time
git -C "$repo" -c gpg.ssh.allowedSignersFile="$PWD/allowed_signers" verify-commit HEAD
ssh-keygen -Y verify -f allowed_signers -I ed25519@example.com -n git -s commit.sig <commit.payload
