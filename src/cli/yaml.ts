import {stringify} from 'yaml'

/**
 * Objects as one YAML stream, as kubectl apply reads it: no anchors or aliases for objects that repeat (the
 * StatefulSet's labels are the selector's), each written out in full. In a module of its own so that yaml loads
 * only with it: a dynamic import of yaml itself, a CommonJS package in the bundle, would give its exports only as
 * `default`.
 */
export const yamlStream = (objects: readonly object[]): string => objects.map((o) => toYaml(o)).join('---\n')

/** The same, each object under a comment line that says why it is there. */
export const commentedYamlStream = (documents: ReadonlyArray<{comment: string; object: object}>): string =>
  documents.map((d) => `# ${d.comment}\n${toYaml(d.object)}`).join('---\n')

const toYaml = (object: object): string => stringify(object, {aliasDuplicateObjects: false})
