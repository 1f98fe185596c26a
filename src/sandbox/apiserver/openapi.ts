import {GROUP_VERSIONS, RESOURCES} from './resources.js'

const gvPath = (group: string, version: string): string => (group ? `apis/${group}/${version}` : `api/${version}`)

/** The /openapi/v3 index: one document per group-version, addressed as kubectl's cached client expects. */
export function openApiV3Index(): object {
  return {paths: Object.fromEntries(GROUP_VERSIONS.map(({group, version}) =>
    [gvPath(group, version), {serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=sandbox`}]))}
}

const queryParam = (name: string): object => ({name, in: 'query', schema: {type: 'string', uniqueItems: true}})

/**
 * A group-version's OpenAPI v3 document, reduced to what kubectl reads from it: each kind's PATCH operation with its
 * x-kubernetes-group-version-kind and the fieldValidation parameter. kubectl then leaves validation to the server and,
 * finding no strategic-merge request body declared, computes apply patches from its compiled-in types.
 */
export function openApiV3Document(path: string): object | undefined {
  const gv = GROUP_VERSIONS.find(({group, version}) => gvPath(group, version) === path)
  if (!gv) return undefined
  const paths = Object.fromEntries(RESOURCES.filter((r) => r.group === gv.group && r.version === gv.version && (r.verbs ?? ['patch']).includes('patch')).map((r) => {
    const prefix = `/${gvPath(r.group, r.version)}${r.namespaced ? '/namespaces/{namespace}' : ''}`
    return [`${prefix}/${r.plural}/{name}`, {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': {group: r.group, version: r.version, kind: r.kind},
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map(queryParam),
        responses: {200: {description: 'OK'}},
      },
    }]
  }))
  return {openapi: '3.0.0', info: {title: 'Kubernetes', version: 'v1.32.0'}, paths}
}

/** A length-delimited protobuf field, for values shorter than 128 bytes. */
const field = (n: number, value: Buffer | string): Buffer => Buffer.concat([Buffer.from([(n << 3) | 2, Buffer.byteLength(value)]), Buffer.from(value)])

/**
 * /openapi/v2, which kubectl reads (in gnostic's protobuf only) to validate a `kind: List` before applying its items:
 * a Document with no definitions, so that each item's validation is left to the server, as the v3 documents do.
 */
export const openApiV2Protobuf = (): Buffer => Buffer.concat([field(1, '2.0'), field(2, Buffer.concat([field(1, 'Kubernetes'), field(2, 'v1.32.0')]))])
