import {stringify} from 'yaml'

/**
 * Objects as one YAML stream. In a module of its own so that yaml loads only with it: a dynamic import of yaml
 * itself, a CommonJS package in the bundle, would give its exports only as `default`.
 */
export const yamlStream = (objects: readonly object[]): string => objects.map((o) => stringify(o)).join('---\n')

/** The same, each object under a comment line that says why it is there. */
export const commentedYamlStream = (documents: ReadonlyArray<{comment: string; object: object}>): string =>
  documents.map((d) => `# ${d.comment}\n${stringify(d.object)}`).join('---\n')
