#!/bin/bash
# Makes the certificates a small faultline fleet needs, with nothing but openssl: one CA, a
# server certificate for the controller, and one client certificate per agent (its common name
# is the agent id) or user. docs/security.md walks through it.
#
#   fleet_pki.sh ca     DIR [DAYS]                  DIR/ca.pem, DIR/ca.key
#   fleet_pki.sh server DIR NAME SANS [DAYS]        DIR/NAME.pem, DIR/NAME.key
#        SANS: comma-separated subjectAltName entries, e.g. DNS:ctl.lab,IP:10.0.0.5,IP:127.0.0.1
#   fleet_pki.sh client DIR CN [DAYS]               DIR/CN.pem, DIR/CN.key
#
# DAYS defaults to 365 (3650 for the CA); a negative DAYS makes an already expired certificate,
# which tests use to check that the controller refuses one.
set -euo pipefail

die() { echo "fleet_pki.sh: $*" >&2; exit 2; }
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

# ECDSA P-256: small, fast handshakes, supported by every gRPC TLS stack.
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

sign() {  # sign DIR NAME CN DAYS EXTENSIONS
  local dir="$1" name="$2" cn="$3" days="$4" ext="$5"
  [ -f "$dir/ca.pem" ] && [ -f "$dir/ca.key" ] || die "$dir/ca.pem and ca.key missing: run 'fleet_pki.sh ca $dir' first"
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days "$days" -sha256 -extfile <(printf '%s\n' "$ext") \
    -out "$dir/$name.pem" 2>/dev/null || die "signing $name failed"
  rm -f "$dir/$name.csr"
  echo "$dir/$name.pem ($cn, $days days)"
}

cmd="${1:-}"
case "$cmd" in
  ca)
    [ $# -ge 2 ] || die "usage: fleet_pki.sh ca DIR [DAYS]"
    dir="$2"; days="${3:-3650}"
    mkdir -p "$dir"
    new_key "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=faultline fleet CA" -days "$days" \
      -sha256 -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem" 2>/dev/null
    echo "$dir/ca.pem"
    ;;
  server)
    [ $# -ge 4 ] || die "usage: fleet_pki.sh server DIR NAME SANS [DAYS]"
    sign "$2" "$3" "$3" "${5:-365}" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$4"
    ;;
  client)
    [ $# -ge 3 ] || die "usage: fleet_pki.sh client DIR CN [DAYS]"
    [[ "$3" =~ ^[A-Za-z0-9._:@-]{1,128}$ ]] || die "client CN \"$3\": use 1-128 of [A-Za-z0-9._:@-] (it is the agent id)"
    sign "$2" "$3" "$3" "${4:-365}" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    ;;
  *)
    die "usage: fleet_pki.sh ca|server|client DIR ..."
    ;;
esac
