# METADATA
# title: Which accounts are the template's own
# description: |
#   "self" (AWS::AccountId) always; literal account IDs listed in the organization config
#   `accounts` too.
package kmspolicy.lib.accounts

own(account) if account == "self"

own(account) if account in data.kmspolicy.config.accounts
