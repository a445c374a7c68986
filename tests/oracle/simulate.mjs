// The referee: reads simulations as JSON lines on stdin, writes one decision per line.
// Each input line: {"id": "...", "simulation": <iam-simulate Simulation>}.
// Each output line: {"id", "decision": Allowed|ImplicitlyDenied|ExplicitlyDenied|Error, "detail"}.
// One process per batch. Test-only: @cloud-copilot/iam-simulate is AGPL-3.0 and never shipped.
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

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let id = null
  try {
    const item = JSON.parse(line)
    id = item.id
    process.stdout.write(JSON.stringify({ id, ...(await decide(item.simulation)) }) + '\n')
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, decision: 'Error', detail: { message: String(error) } }) + '\n')
  }
}
