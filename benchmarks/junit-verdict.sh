#!/usr/bin/env bash
# Reads the JUnit console launcher's log (--details=tree) and says whether the tests really ran: exit 0 when at
# least one test succeeded and none failed, else 1 with one line on why. The launcher itself exits 0 when every
# test was skipped or aborted (a gpu test without a GPU aborts on an assumption), which gpu-check.sh must not report
# as a pass.
#
# Usage: benchmarks/junit-verdict.sh LOG
set -uo pipefail
log=${1:?usage: benchmarks/junit-verdict.sh LOG}
count() {
  sed -n "s/^\[ *\([0-9]*\) tests $1 *\]$/\1/p" "$log" | head -n 1
}
successful=$(count successful)
failed=$(count failed)
if [ -z "$successful" ]; then
  echo "no JUnit summary in $log"
  exit 1
fi
if [ "${failed:-0}" -gt 0 ]; then
  echo "$failed test(s) failed"
  exit 1
fi
if [ "$successful" -eq 0 ]; then
  # The first reason a test gave for not running, as the tree prints it ("=> Assumption failed: ...").
  reason=$(grep -m1 -o 'Assumption failed: .*' "$log" || true)
  echo "no test ran: every one was skipped or aborted${reason:+ ($reason)}"
  exit 1
fi
echo "$successful test(s) passed"
