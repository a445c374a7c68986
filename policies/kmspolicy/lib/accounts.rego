# METADATA
# title: Which accounts are the template's own
# description: |
#   "self" (AWS::AccountId) always; literal account IDs listed in the organization config
#   `accounts` too, and the one the template is known to be deployed to (`input.accounts`:
#   a CDK stack's environment).
package kmspolicy.lib.accounts

own(account) if account == "self"
else := true if account in data.kmspolicy.config.accounts
else := true if account in input.accounts
