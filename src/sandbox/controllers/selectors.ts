import type {V1LabelSelector, V1LabelSelectorRequirement, V1NodeSelectorRequirement, V1NodeSelectorTerm} from '@kubernetes/client-node'

type Labels = Record<string, string> | undefined

/**
 * metav1.LabelSelector semantics: matchLabels and matchExpressions are ANDed; an empty selector matches
 * everything and a missing one matches nothing (as LabelSelectorAsSelector does for affinity terms).
 */
export function labelSelectorMatches(selector: V1LabelSelector | undefined | null, labels: Labels): boolean {
  if (!selector) return false
  const set = labels ?? {}
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (set[key] !== value) return false
  }
  return (selector.matchExpressions ?? []).every((requirement) => requirementMatches(requirement, set))
}

function requirementMatches(requirement: V1LabelSelectorRequirement | V1NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key)
  const value = labels[requirement.key]
  const values = requirement.values ?? []
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(value)
    case 'NotIn':
      return !has || !values.includes(value)
    case 'Exists':
      return has
    case 'DoesNotExist':
      return !has
    case 'Gt':
      return has && values.length === 1 && Number(value) > Number(values[0])
    case 'Lt':
      return has && values.length === 1 && Number(value) < Number(values[0])
    default:
      return false
  }
}

/** spec.nodeSelector: every pair must be present on the node. */
export function nodeSelectorMatches(nodeSelector: Record<string, string> | undefined, nodeLabels: Labels): boolean {
  return Object.entries(nodeSelector ?? {}).every(([key, value]) => nodeLabels?.[key] === value)
}

/**
 * requiredDuringSchedulingIgnoredDuringExecution node affinity: the terms are ORed, the requirements of a
 * term ANDed; matchFields supports metadata.name, the only field the real scheduler supports.
 */
export function nodeSelectorTermsMatch(terms: V1NodeSelectorTerm[], nodeName: string, nodeLabels: Labels): boolean {
  return terms.some((term) => {
    const expressions = term.matchExpressions ?? []
    const fields = term.matchFields ?? []
    if (expressions.length === 0 && fields.length === 0) return false
    return (
      expressions.every((requirement) => requirementMatches(requirement, nodeLabels ?? {})) &&
      fields.every((requirement) => requirement.key === 'metadata.name' && requirementMatches(requirement, {'metadata.name': nodeName}))
    )
  })
}
