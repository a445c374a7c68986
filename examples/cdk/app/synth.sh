#!/bin/sh
# Synthesize this app into cdk.out/ with creation traces (`make cdk-fixture`; needs Node and
# npm, never run by CI). The pins are package.json's; what it writes replaces the committed
# cdk.out/, after which tests/test_cdk.py's goldens are regenerated with
# KMSPOLICY_UPDATE_GOLDEN=1 and reviewed.
set -eu
cd "$(dirname "$0")"
npm install --no-audit --no-fund --loglevel=error
rm -rf cdk.out
CDK_DEBUG=true npx cdk synth --debug --quiet --output cdk.out
