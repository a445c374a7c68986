# METADATA
# title: kmspolicy entrypoint
# description: Gathers the findings of every rule package under kmspolicy.rules.
# entrypoint: true
package kmspolicy.main

findings contains f if {
	some name
	some f in data.kmspolicy.rules[name].findings
}
