#!/bin/sh
# VERIFY.sh: re-checks this evidence package without trailproof, with a
# POSIX shell, openssl, gzip, sha256sum, jq, sed, grep, awk and coreutils
# only. Every expected value comes from the package's own signed CloudTrail
# digests; nothing is embedded here. One line per check; exit 1 on any
# failure, 3 when every check passed against the package's own keys only.
#
#   CLOUDTRAIL_FINGERPRINTS="fp ..." sh VERIFY.sh
#       (the fingerprints the verifier's own `aws cloudtrail
#       list-public-keys --region R --start-time S --end-time E` prints)
#   SIGNER_SHA256=HEX   also requires the operator's signature (the SHA-256
#       of their public key, as they published it)
#   TSA_CAFILE=root.pem checks the RFC 3161 time-stamp tokens (FILE.tsr)
#       against the time-stamp authority's root the verifier trusts, and
#       requires those of SHA256SUMS and manifest.json
#
# Steps (VERIFY.md says them in words, with the AWS documentation):
#  1. SHA256SUMS: every file of the package as it was sealed.
#  2. The operator's signatures (FILE.sig by signer.pem), when present,
#     and the time-stamp tokens (FILE.tsr, `openssl ts -verify`).
#  3. Each CloudTrail public key (public-keys.json, from ListPublicKeys)
#     to PEM.
#  4. Each digest file: where it says it lives, and its RSA signature
#     (x-amz-meta-signature, in KEY.metadata.json) over the string CloudTrail
#     signs: end time, bucket/key, SHA-256 of the inflated digest, and the
#     previous digest's signature.
#  5. Each chain link: the previous digest's signature and SHA-256.
#  6. Each log file a digest lists: the SHA-256 of its inflated bytes.

set -u
set -f
here=$(dirname "$0")
cd "$here" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM
failures=0
checks=0

ok() { checks=$((checks + 1)); printf 'OK      %s\n' "$1"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAILED  %s\n' "$1"; }

# 1. The seal: every line "HASH  PATH" with a plain path inside the
# package, every listed file as sealed, and no file left off the list.
if [ ! -f SHA256SUMS ]; then
  bad "SHA256SUMS: missing"
elif grep -v -q '^[0-9a-f]\{64\}  [^/\\][^\\]*$' SHA256SUMS \
  || grep -q -e '  \.\./' -e '/\.\./' -e '/\.\.$' SHA256SUMS; then
  bad "SHA256SUMS: a line is not \"SHA-256  path inside the package\""
elif sha256sum -c --quiet --strict SHA256SUMS > "$tmp/sums" 2>&1; then
  ok "SHA256SUMS: every listed file is as sealed"
else
  bad "SHA256SUMS: $(head -n 3 "$tmp/sums" | tr '\n' ' ')"
fi
cut -c 67- SHA256SUMS 2> /dev/null | sort > "$tmp/listed"
du -a -l . | cut -f 2- | sed 's|^\./||' | sort > "$tmp/all"
while IFS= read -r f; do
  if [ ! -e "$f" ]; then
    bad "a file name in the package holds a line break"
    continue
  fi
  [ -f "$f" ] || continue
  case "$f" in
    SHA256SUMS | SHA256SUMS.sig | SHA256SUMS.tsr | manifest.json | manifest.json.sig | manifest.json.tsr | manifest.mac) continue ;;
    # A draft for a person to edit and sign; it quotes the seal's hashes.
    CERTIFICATION-DRAFT.md) continue ;;
  esac
  grep -q -x -F -e "$f" "$tmp/listed" || bad "$f: in the package, not in SHA256SUMS"
done < "$tmp/all"

# 2. The operator's signatures. SIGNER_SHA256=HEX (the SHA-256 of the
# operator's public key, as they published it) makes them required.
want=${SIGNER_SHA256:-}
if [ ! -f signer.pem ] || [ ! -f SHA256SUMS.sig ]; then
  if [ -n "$want" ]; then bad "signer.pem or SHA256SUMS.sig: missing, and SIGNER_SHA256 asks for them"
  else printf 'NOTE    the package carries no operator signature (acquire --signing-key)\n'; fi
else
  der=$(openssl pkey -pubin -in signer.pem -outform DER 2> /dev/null | sha256sum | cut -d' ' -f1)
  if [ -n "$want" ] && [ "$der" != "$want" ]; then
    bad "signer.pem: its public key is $der, not the operator's $want"
  fi
  for f in SHA256SUMS manifest.json live-report.json; do
    [ -f "$f.sig" ] || continue
    if openssl dgst -sha256 -verify signer.pem -signature "$f.sig" "$f" > /dev/null 2>&1; then
      ok "$f: signed by signer.pem (SHA-256 of its public key: $der; compare it with the operator's)"
    else
      bad "$f: its signature does not verify with signer.pem"
    fi
  done
fi

# The time-stamp tokens: when the authority's token says these bytes
# existed, by a clock that is not the operator's. TSA_CAFILE=root.pem
# (the authority's root, as the verifier obtained it) makes the tokens of
# the seal (SHA256SUMS, manifest.json) required. Only the token is read:
# the rest of the answer (its status text) is nobody's signature.
tsa_root=${TSA_CAFILE:-}
unconfirmed_time=0
for f in SHA256SUMS manifest.json live-report.json; do
  if [ ! -f "$f.tsr" ]; then
    case "$f" in live-report.json) continue ;; esac
    [ -n "$tsa_root" ] && bad "$f: no time-stamp token ($f.tsr), and TSA_CAFILE asks for one"
    continue
  fi
  rm -f "$tmp/token"
  if ! openssl ts -reply -in "$f.tsr" -token_out -out "$tmp/token" > /dev/null 2>&1; then
    bad "$f.tsr: not an RFC 3161 time-stamp answer"
    continue
  fi
  at=$(openssl ts -reply -in "$tmp/token" -token_in -text 2> /dev/null \
    | sed -n 's/^Time stamp: //p' | head -n 1 | tr -cd 'A-Za-z0-9: .')
  if [ -z "$tsa_root" ]; then
    printf 'NOTE    %s: a time-stamp token says %s (not checked: set TSA_CAFILE to the authority'"'"'s root)\n' "$f" "${at:-(unreadable)}"
    unconfirmed_time=1
    continue
  fi
  # Checked as of the token's own time: an authority's certificate that
  # expired since does not undo what it signed while valid.
  when=$(date -u -d "$at" +%s 2> /dev/null) || when=""
  case "$when" in *[!0-9]* | "") when_arg="" ;; *) when_arg="-attime $when" ;; esac
  # shellcheck disable=SC2086
  if openssl ts -verify -data "$f" -in "$tmp/token" -token_in -CAfile "$tsa_root" $when_arg > /dev/null 2>&1; then
    ok "$f: existed as it is now at $at (time-stamp token from an authority under TSA_CAFILE)"
  else
    bad "$f: its time-stamp token does not verify over the file with TSA_CAFILE"
  fi
done

# 3. CloudTrail's public keys, by fingerprint.
jq -r '.PublicKeyList[] | [.Fingerprint, .Value] | @tsv' public-keys.json > "$tmp/keys" 2> /dev/null \
  || bad "public-keys.json: not the output of ListPublicKeys"
tab=$(printf '\t')
while IFS="$tab" read -r fp value; do
  case "$fp" in *[!0-9a-f]* | "") continue ;; esac
  printf '%s' "$value" | base64 -d > "$tmp/$fp.der" 2> /dev/null
  # CloudTrail names a key by the MD5 of its DER: a key put in under a
  # genuine key's name does not match it.
  if [ "$(md5sum < "$tmp/$fp.der" | cut -c 1-32)" != "$fp" ]; then
    bad "public key $fp: its value is not the key of that fingerprint"
    continue
  fi
  openssl rsa -RSAPublicKey_in -inform DER -in "$tmp/$fp.der" -pubout -out "$tmp/$fp.pem" 2> /dev/null \
    || bad "public key $fp: not an RSA public key"
done < "$tmp/keys"

# 4-6. The digests, their links and their log files.
# Every digest file in the folder, listed or not.
grep '/CloudTrail-Digest/.*\.json\.gz$' "$tmp/all" | sed 's|^|./|' > "$tmp/digests"
: > "$tmp/signed"
: > "$tmp/listed-logs"
verified=0
# CLOUDTRAIL_FINGERPRINTS="fp1 fp2 ...": the keys the verifier's own
# `aws cloudtrail list-public-keys` returned; without it the keys are the
# package's own word.
trusted=$(printf '%s' "${CLOUDTRAIL_FINGERPRINTS:-}" | tr ',' ' ')
while read -r d; do
  if ! gzip -dc < "$d" > "$tmp/digest.json" 2> /dev/null; then
    bad "$d: not a gzip file"
    continue
  fi
  field() { jq -r "$1 // \"null\"" "$tmp/digest.json" 2> /dev/null; }
  end=$(field .digestEndTime)
  bucket=$(field .digestS3Bucket)
  key=$(field .digestS3Object)
  fp=$(field .digestPublicKeyFingerprint)
  prev=$(field .previousDigestSignature)
  hash=$(sha256sum < "$tmp/digest.json" | cut -d' ' -f1)
  if [ "$d" != "./$bucket/$key" ]; then
    bad "$d: it says it belongs at s3://$bucket/$key (moved)"
    continue
  fi
  sig=$(jq -r '.signature // empty' "$d.metadata.json" 2> /dev/null)
  case "$sig" in
    "" | *[!0-9a-fA-F]*)
      bad "digest s3://$bucket/$key: no signature in its metadata, or not hex"
      continue
      ;;
  esac
  printf '%s\n%s/%s\n%s\n%s' "$end" "$bucket" "$key" "$hash" "$prev" > "$tmp/to-sign"
  printf '%s' "$sig" | tr 'a-f' 'A-F' | basenc --base16 -d > "$tmp/sig.bin" 2> /dev/null || {
    bad "digest s3://$bucket/$key: its signature is not hex"
    continue
  }
  case "$fp" in *[!0-9a-f]* | "") fp=none ;; esac
  if [ -n "$trusted" ]; then
    case " $trusted " in
      *" $fp "*) ;;
      *)
        bad "digest s3://$bucket/$key: signed by key $fp, which CLOUDTRAIL_FINGERPRINTS does not name"
        continue
        ;;
    esac
  fi
  if [ -f "$tmp/$fp.pem" ] && [ -n "$sig" ] \
    && openssl dgst -sha256 -verify "$tmp/$fp.pem" -signature "$tmp/sig.bin" "$tmp/to-sign" > /dev/null 2>&1; then
    ok "digest s3://$bucket/$key: signed by public key $fp (compare it with ListPublicKeys)"
    printf '%s/%s %s %s\n' "$bucket" "$key" "$sig" "$hash" >> "$tmp/signed"
    verified=$((verified + 1))
    # A chain is one account, region and trail (the name less its time);
    # backfill digests make chains of their own.
    name=${key##*/}
    case "$name" in
      *_backfill.json.gz) name=${name%_backfill.json.gz}; name=${name%_*}_backfill ;;
      *) name=${name%_*} ;;
    esac
    chain="$name"
    start=$(field .digestStartTime)
    printf '%s %s\n' "$chain" "$start" >> "$tmp/starts"
  else
    bad "digest s3://$bucket/$key: its signature does not verify (key $fp)"
    continue
  fi
  jq -r --arg c "$chain" --arg s "$start" \
    '[(.previousDigestS3Bucket // "") + "/" + (.previousDigestS3Object // ""),
      (.previousDigestSignature // ""), (.previousDigestHashValue // ""), $c, $s] | @tsv' \
    "$tmp/digest.json" >> "$tmp/links"
  printf '%s/%s\n' "$bucket" "$key" >> "$tmp/links-of"
  jq -r '.logFiles[] | [.s3Bucket, .s3Object, .hashValue] | @tsv' "$tmp/digest.json" > "$tmp/logs"
  while IFS="$tab" read -r lb lk lh; do
    printf '%s/%s\n' "$lb" "$lk" >> "$tmp/listed-logs"
    if [ ! -f "./$lb/$lk" ]; then
      bad "log s3://$lb/$lk: listed by a signed digest, not in the package"
    elif [ "$(gzip -dc < "./$lb/$lk" 2> /dev/null | sha256sum | cut -d' ' -f1)" = "$lh" ]; then
      ok "log s3://$lb/$lk: SHA-256 as the digest signs"
    else
      bad "log s3://$lb/$lk: its SHA-256 is not the one the digest signs"
    fi
  done < "$tmp/logs"
done < "$tmp/digests"

# Each link to a previous digest the package holds and verified.
if [ -f "$tmp/links" ]; then
  while IFS="$tab" read -r p psig phash chain start; do
    [ "$p" = "/" ] && continue
    line=$(awk -v p="$p" '$1 == p { print; exit }' "$tmp/signed")
    if [ -z "$line" ]; then
      # Only the oldest digest of its chain may point before the package.
      oldest=$(awk -v c="$chain" '$1 == c { print $2 }' "$tmp/starts" | sort | head -n 1)
      if [ "$start" = "$oldest" ]; then
        printf 'NOTE    the chain starts at %s in this package: its first digest points to s3://%s, before it\n' "$start" "$p"
      else
        bad "link to s3://$p: a signed digest names it, and it is not in the package"
      fi
      continue
    fi
    set -- $line
    if [ "$2" = "$psig" ] && [ "$3" = "$phash" ]; then
      ok "link to s3://$p: its signature and SHA-256 are what the next digest names"
    else
      bad "link to s3://$p: the next digest names another signature or SHA-256"
    fi
  done < "$tmp/links"
fi

[ "$verified" -gt 0 ] || bad "no digest in the package verified"

if [ -f CERTIFICATION-DRAFT.md ]; then
  printf 'NOTE    CERTIFICATION-DRAFT.md is a draft for a person to review and sign, outside the seal: it proves nothing by itself\n'
fi

# Log files the package holds that no verified digest lists: after the
# last digest, or put there (trailproof's report says which).
sort -u "$tmp/listed-logs" > "$tmp/listed-logs.sorted"
grep '/CloudTrail/.*\.json\.gz$' "$tmp/all" | sort > "$tmp/held-logs"
unlisted=$(comm -23 "$tmp/held-logs" "$tmp/listed-logs.sorted" | grep -c . || true)
if [ "$unlisted" -gt 0 ]; then
  printf 'NOTE    %s log file(s) in the package are listed by no verified digest (after the last digest, or put there: see live-report.json)\n' "$unlisted"
fi

if [ "$failures" -eq 0 ] && [ -z "$trusted" ]; then
  printf 'CHECKS PASSED (%s), BUT AGAINST THE PACKAGE'"'"'S OWN KEYS: run again with\n' "$checks"
  printf '  CLOUDTRAIL_FINGERPRINTS="..." (from aws cloudtrail list-public-keys for the region and window)\n'
  exit 3
fi
if [ "$failures" -eq 0 ] && [ "$unconfirmed_time" -eq 1 ]; then
  printf 'CHECKS PASSED (%s), BUT THE TIME-STAMP TOKENS WERE NOT CHECKED: run again with\n' "$checks"
  printf '  TSA_CAFILE=root.pem (the time-stamp authority'"'"'s root certificate)\n'
  exit 3
fi
if [ "$failures" -eq 0 ]; then
  printf 'VERIFIED: %s checks passed\n' "$checks"
  exit 0
fi
printf 'NOT VERIFIED: %s of %s checks failed\n' "$failures" "$checks"
exit 1
