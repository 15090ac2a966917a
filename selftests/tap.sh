# SPDX-License-Identifier: GPL-2.0
#
# One TAP test line for the host scripts that source this: result DESC CMD...
# runs CMD, prints "ok N - DESC" or "not ok N - DESC" with CMD's output as
# comments, and counts into $n, $pass and $fail.  The script sets $tmp (a
# scratch directory) before it calls result.
n=0 pass=0 fail=0

result() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - $desc"
		pass=$((pass + 1))
	else
		echo "not ok $n - $desc"
		sed 's/^/# /' "$tmp/out"
		fail=$((fail + 1))
	fi
}
