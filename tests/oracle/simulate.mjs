// The referee: reads simulations as JSON lines on stdin, writes one decision per line.
// Input lines, in one of three forms:
//   {"policy": k, "document": <policy document>}  names a document k for the lines after it;
//   {"id", "request", "identity": [[name, k]...], "boundary": [[name, k]...] | null, "resource": k | null}
//     a simulation whose policies are named documents (no SCPs or RCPs);
//   {"id", "simulation": <iam-simulate Simulation>}  a simulation written out whole.
// Each output line: {"id", "decision": Allowed|ImplicitlyDenied|ExplicitlyDenied|Error, "detail"}.
// One process answers many batches. Test-only: @cloud-copilot/iam-simulate is AGPL-3.0 and never shipped.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

// iam-simulate's CommonJS build, so that pure functions it calls on every request can be
// remembered (its modules call each other through their exports objects, which can be
// replaced): the resource types an action has on a resource ARN (a function of iam-data
// alone; a third of the harness's time) and iam-policy's case-insensitive suffix test of
// condition operators (ICU collation, a fifth). Same answers, byte for byte
// (tests/test_oracle.py); ORACLE_NO_MEMO=1 runs the library untouched (and hands it raw
// documents, below).
const require = createRequire(import.meta.url)
const { runSimulation } = require('@cloud-copilot/iam-simulate')

function remember(module, name) {
  const original = module[name]
  const known = new Map()
  module[name] = (...args) => {
    const key = args.join('\u0000')
    if (!known.has(key)) {
      if (known.size > 100000) known.clear()
      known.set(key, original(...args))
    }
    return known.get(key)
  }
}

if (process.env.ORACLE_NO_MEMO !== '1') {
  const within = (pkg, path) => require.resolve(pkg).replace(/index\.js$/, '') + path
  remember(require(within('@cloud-copilot/iam-simulate', 'simulation_engine/resourceTypes.js')),
    'getResourceTypesForAction')
  remember(require(within('@cloud-copilot/iam-policy', 'utils.js')), 'caseInsensitiveEndsWith')
}

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

// A named document is validated once per use (identity or resource policy) and handed to
// runSimulation as iam-policy's ValidatedPolicy, which it takes instead of validating again.
const policyLibrary = createRequire(require.resolve('@cloud-copilot/iam-simulate'))('@cloud-copilot/iam-policy')
const untouched = process.env.ORACLE_NO_MEMO === '1'
const validators = { identity: policyLibrary.validateIdentityPolicy, resource: policyLibrary.validateResourcePolicy }
const documents = new Map()
const validated = new Map()

function named(k, use) {
  if (!documents.has(k)) throw new Error(`policy ${k} was not sent`)
  if (untouched) return documents.get(k)
  const key = `${use} ${k}`
  if (!validated.has(key)) {
    const document = documents.get(k)
    // runSimulation names a resource policy by its document's `name`: kept as it was
    validated.set(key, { ...policyLibrary.createValidatedPolicy(document, validators[use]), name: document.name })
  }
  return validated.get(key)
}

function simulationOf(item) {
  if (item.simulation) return item.simulation
  const simulation = {
    request: item.request,
    identityPolicies: item.identity.map(([name, k]) => ({ name, policy: named(k, 'identity') })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: item.resource === null ? undefined : named(item.resource, 'resource')
  }
  if (item.boundary !== null) {
    simulation.permissionBoundaryPolicies = item.boundary.map(([name, k]) => ({ name, policy: named(k, 'identity') }))
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
      validated.delete(`identity ${item.policy}`)
      validated.delete(`resource ${item.policy}`)
      continue
    }
    id = item.id
    process.stdout.write(JSON.stringify({ id, ...(await decide(simulationOf(item))) }) + '\n')
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, decision: 'Error', detail: { message: String(error) } }) + '\n')
  }
}
