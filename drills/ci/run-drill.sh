#!/bin/sh
# A restore drill as a CI job, for any CI system: runs `lifeboat drill run` with the scenario given, writes the
# JUnit, JSON and Markdown reports into $LIFEBOAT_DRILL_REPORTS (default ./drill-reports) for the CI to publish,
# appends the Markdown to $GITHUB_STEP_SUMMARY when GitHub Actions provides one, and exits with the drill's code:
# 0 every target and check passed, 1 one failed, another code (README, "Exit codes") when the drill could not run.
#
# Environment:
#   LIFEBOAT_CONFIG          the config file (repository, encryption, the cluster); give it read-only repository
#                            credentials: a drill only reads the repository (storing its result is best effort)
#   LIFEBOAT_DRILL_SCENARIO  scenario file (default drills/latest.yaml)
#   LIFEBOAT_DRILL_CLUSTER   cluster name (default: the config's only cluster)
#   LIFEBOAT_DRILL_REPORTS   folder for the reports (default ./drill-reports)
#   LIFEBOAT                 the lifeboat command (default: lifeboat on PATH)
set -u
scenario="${LIFEBOAT_DRILL_SCENARIO:-drills/latest.yaml}"
reports="${LIFEBOAT_DRILL_REPORTS:-./drill-reports}"
lifeboat="${LIFEBOAT:-lifeboat}"
mkdir -p "$reports" || exit 65

set -- drill run --scenario "$scenario" --junit "$reports/drill.xml" --json "$reports/drill.json" --markdown "$reports/drill.md"
[ -n "${LIFEBOAT_DRILL_CLUSTER:-}" ] && set -- "$@" --cluster "$LIFEBOAT_DRILL_CLUSTER"

# $lifeboat is word-split on purpose: it may be `node /path/bin/lifeboat.js`.
# shellcheck disable=SC2086
$lifeboat "$@"
status=$?

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$reports/drill.md" ]; then
  cat "$reports/drill.md" >> "$GITHUB_STEP_SUMMARY"
fi
echo "drill exit code $status; reports in $reports" >&2
exit "$status"
