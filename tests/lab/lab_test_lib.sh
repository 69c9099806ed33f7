# Helpers for the lab tests (sourced): where the binaries are, a PKI for a controller the test
# starts, Debian's current cloud kernel release, and assertions that print what they saw.
set -euo pipefail

runfiles="${TEST_SRCDIR}/${TEST_WORKSPACE:-faultline}"
lab="$runfiles/agent/lab/faultline-lab"
ctl_bin="$runfiles/controller/cli/faultlinectl"
controller_bin="$runfiles/controller/faultline-controller"
agent_bin="$runfiles/agent/faultline-agent"
fleet_pki="$runfiles/controller/security/fleet_pki.sh"
tests_dir="$runfiles/tests/lab"
scratch="${TEST_TMPDIR:-$(mktemp -d)}"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# make_test_pki DIR: a CA (DIR/ca.pem, ca.key: what faultline-lab --pki_dir takes), the
# controller's certificate (controller.pem: IP:10.0.2.2 for guests, IP:127.0.0.1 for this host),
# the test's own faultlinectl certificate (role read) and DIR/access.policy granting what the
# lab issues from that CA: agents lab-* and the lab's faultlinectl, faultline-lab (submit).
# Sets ctl_tls, the flags of the test's faultlinectl calls.
ctl_tls=()
make_test_pki() {
  local dir="$1"
  { bash "$fleet_pki" ca "$dir" &&
    bash "$fleet_pki" server "$dir" controller IP:10.0.2.2,IP:127.0.0.1 &&
    bash "$fleet_pki" client "$dir" faultline-lab-test; } >"$dir.log" 2>&1 ||
    fail "fleet_pki.sh: $(cat "$dir.log")"
  cat >"$dir/access.policy" <<'POLICY'
cert lab-*               agent
cert faultline-lab       submit
cert faultline-lab-test  read
POLICY
  ctl_tls=(--tls_ca="$dir/ca.pem" --tls_cert="$dir/faultline-lab-test.pem"
           --tls_key="$dir/faultline-lab-test.key")
}

# The release Debian's linux-image-cloud-<arch> depends on today, e.g. 6.1.0-56-cloud-amd64:
# worked out here from apt's lists, independently of the lab.
debian_cloud_release() {
  local deb_arch="$1" version
  version="$(apt-cache depends "linux-image-cloud-$deb_arch:$deb_arch" |
    sed -nE "s/.*Depends: linux-image-(.*)-cloud-$deb_arch.*/\1/p" | head -1)"
  [[ -n "$version" ]] || fail "apt has no linux-image-cloud-$deb_arch (apt-get update?)"
  echo "$version-cloud-$deb_arch"
}

# Stored results as CSV rows "agent_id arch kernel_release state metric value". The params
# column is the only quoted one, so the fields before it are read from the left and the rest
# from the right.
stored_rows() {  # stored_rows CONTROLLER CAMPAIGN
  "$ctl_bin" --controller="$1" "${ctl_tls[@]}" results --campaign="$2" --format=csv |
    awk -F, 'NR > 1 { print $6, $7, $9, $(NF - 4), $(NF - 2), $NF }'
}

# The verdict and B/A ratio of one metric in `faultlinectl compare`'s table.
compare_field() {  # compare_field FILE BENCHMARK METRIC COLUMN(ratio|verdict)
  awk -v b="$2" -v m="$3" -v want="$4" '
    $1 == b && $2 == m {
      if (want == "ratio") { print $9; exit }
      else for (i = 1; i <= NF; i++)
        if ($i ~ /^(regression|improvement|no_change|inconclusive)$/) { print $i; exit }
    }' "$1"
}
