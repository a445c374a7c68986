// The referee: reads simulations as JSON lines on stdin, writes one decision per line.
// Input lines, in one of three forms:
//   {"policy": k, "document": <policy document>}  names a document k for the lines after it;
//   {"id", "request", "identity": [[name, k]...], "boundary": [[name, k]...] | null, "resource": k | null}
//     a simulation whose policies are named documents (no SCPs or RCPs);
//   {"id", "simulation": <iam-simulate Simulation>}  a simulation written out whole.
// Each output line: {"id", "decision": Allowed|ImplicitlyDenied|ExplicitlyDenied|Error, "detail"}.
// One process answers many batches. Test-only: @cloud-copilot/iam-simulate is AGPL-3.0 and never shipped.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

function statements(analysis, field) {
  return (analysis?.[field] || []).map((s) => s.explain?.identifier ?? s.identifier ?? null)
}

function detail(result) {
  const a = result?.analysis || {}
  return {
    identityAllow: statements(a.identityAnalysis, 'allowStatements'),
    identityDeny: statements(a.identityAnalysis, 'denyStatements'),
    resourceAllow: statements(a.resourceAnalysis, 'allowStatements'),
    resourceDeny: statements(a.resourceAnalysis, 'denyStatements'),
    boundary: a.permissionBoundaryAnalysis?.result ?? null,
    ignoredContextKeys: result?.ignoredContextKeys || []
  }
}

async function decide(simulation) {
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { decision: 'Error', detail: { message: response.errors.message, errors: response.errors } }
  }
  if (response.resultType === 'single') {
    return { decision: response.overallResult, detail: detail(response.result) }
  }
  return { decision: response.overallResult, detail: { wildcard: response.results.length } }
}

const documents = new Map()

function named(k) {
  if (!documents.has(k)) throw new Error(`policy ${k} was not sent`)
  return documents.get(k)
}

function simulationOf(item) {
  if (item.simulation) return item.simulation
  const simulation = {
    request: item.request,
    identityPolicies: item.identity.map(([name, k]) => ({ name, policy: named(k) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: item.resource === null ? undefined : named(item.resource)
  }
  if (item.boundary !== null) {
    simulation.permissionBoundaryPolicies = item.boundary.map(([name, k]) => ({ name, policy: named(k) }))
  }
  return simulation
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let id = null
  try {
    const item = JSON.parse(line)
    if ('policy' in item) {
      documents.set(item.policy, item.document)
      continue
    }
    id = item.id
    process.stdout.write(JSON.stringify({ id, ...(await decide(simulationOf(item))) }) + '\n')
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, decision: 'Error', detail: { message: String(error) } }) + '\n')
  }
}
