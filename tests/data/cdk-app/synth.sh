#!/bin/sh
# Synthesize this app into cdk.out/ with creation traces (`make cdk-fixture`; Node >= 20 and
# npm needed, never run by CI). The versions are package-lock.json's (`npm ci`). No network
# but the npm registry: no version check, notices or CLI telemetry, no AWS credentials
# looked for (the stacks are environment-agnostic or name their account and region). What
# it writes replaces the committed cdk.out/; then regenerate tests/test_cdk.py's goldens
# with KMSPOLICY_UPDATE_GOLDEN=1 and review them.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
rm -rf cdk.out
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true AWS_EC2_METADATA_DISABLED=true
# --debug sets CDK_DEBUG=true for the app: each construct's creation trace is recorded. Node
# keeps 10 frames by default, too few to reach the app's line from a role's DefaultPolicy,
# which CDK creates deep inside a grant.
export NODE_OPTIONS=--stack-trace-limit=60
npx cdk synth --debug --no-notices --no-lookups --quiet --output cdk.out
