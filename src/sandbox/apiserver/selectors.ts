import {badRequest} from './status.js'

type Operator = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt'

interface Requirement {
  key: string
  op: Operator
  values: string[]
}

export type Labels = Record<string, string> | undefined

/** A parsed label selector with apimachinery's semantics: every requirement must hold; empty selects everything. */
export interface LabelSelector {
  matches(labels: Labels): boolean
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** Splits on commas that are not inside parentheses: `a in (x,y),b` has two requirements. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of selector) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  parts.push(current)
  return parts
}

function checkKey(key: string, selector: string): void {
  if (!KEY.test(key) || key.length > 316) {
    throw badRequest(`unable to parse requirement: <nil>: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (for selector "${selector}")`)
  }
}

function checkValue(value: string, selector: string): void {
  if (!VALUE.test(value) || value.length > 63) {
    throw badRequest(`unable to parse requirement: values[0]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (for selector "${selector}")`)
  }
}

function parseRequirement(text: string, selector: string): Requirement {
  const t = text.trim()
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(t)
  if (set) {
    const values = set[3].split(',').map((v) => v.trim())
    checkKey(set[1], selector)
    values.forEach((v) => checkValue(v, selector))
    return {key: set[1], op: set[2] as Operator, values}
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$/.exec(t)
  if (cmp) {
    checkKey(cmp[1], selector)
    const value = cmp[3].trim()
    if (cmp[2] === '<' || cmp[2] === '>') {
      if (!/^-?\d+$/.test(value)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer (for selector "${selector}")`)
      return {key: cmp[1], op: cmp[2] === '<' ? 'lt' : 'gt', values: [value]}
    }
    checkValue(value, selector)
    return {key: cmp[1], op: cmp[2] === '!=' ? '!=' : '=', values: [value]}
  }
  if (t.startsWith('!')) {
    checkKey(t.slice(1).trim(), selector)
    return {key: t.slice(1).trim(), op: '!', values: []}
  }
  checkKey(t, selector)
  return {key: t, op: 'exists', values: []}
}

function holds(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key)
  const value = labels[r.key]
  switch (r.op) {
    case 'exists': return has
    case '!': return !has
    case '=': return has && value === r.values[0]
    case '!=': return !has || value !== r.values[0]
    case 'in': return has && r.values.includes(value)
    case 'notin': return !has || !r.values.includes(value)
    case 'gt': return has && /^-?\d+$/.test(value) && Number(value) > Number(r.values[0])
    case 'lt': return has && /^-?\d+$/.test(value) && Number(value) < Number(r.values[0])
  }
}

export function parseLabelSelector(selector: string | null | undefined): LabelSelector {
  const requirements = selector?.trim() ? splitTopLevel(selector).map((p) => parseRequirement(p, selector)) : []
  return {matches: (labels) => requirements.every((r) => holds(r, labels ?? {}))}
}

/** A metav1.LabelSelector (matchLabels + matchExpressions), as StatefulSets and PDBs carry it. */
export interface StructuredSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{key: string; operator: string; values?: string[]}>
}

export function structuredSelectorMatches(selector: StructuredSelector, labels: Labels): boolean {
  const l = labels ?? {}
  const fromLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => l[k] === v)
  const ops: Record<string, Operator> = {In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!'}
  return fromLabels && (selector.matchExpressions ?? []).every((e) => holds({key: e.key, op: ops[e.operator] ?? 'in', values: e.values ?? []}, l))
}

interface FieldRequirement {
  field: string
  negate: boolean
  value: string
}

/** A parsed field selector: `=`, `==` and `!=` over the fields a resource supports (anything else is a 400). */
export interface FieldSelector {
  matches(fields: Record<string, string>): boolean
}

/** Splits on a separator that is not escaped with a backslash, unescaping the rest. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      current += text[++i]
    } else if (text[i] === separator) {
      parts.push(current)
      current = ''
    } else {
      current += text[i]
    }
  }
  parts.push(current)
  return parts
}

export function parseFieldSelector(selector: string | null | undefined, supported: readonly string[]): FieldSelector {
  const requirements: FieldRequirement[] = []
  if (selector?.trim()) {
    for (const term of selector.split(/(?<!\\),/)) {
      const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term.trim())
      if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`)
      const field = m[1].trim()
      if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`)
      requirements.push({field, negate: m[2] === '!=', value: splitUnescaped(m[3], '\u0000')[0]})
    }
  }
  return {matches: (fields) => requirements.every((r) => (fields[r.field] === r.value) !== r.negate)}
}
