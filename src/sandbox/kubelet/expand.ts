/**
 * Kubernetes' `$(VAR)` expansion, as the kubelet applies it to env values, command and args
 * (k8s.io/kubernetes third_party/forked/golang/expansion): `$(NAME)` is replaced when NAME is known,
 * `$$` is an escaped `$`, and unknown or unterminated references stay literal.
 */
export function expand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = ''
  let checkpoint = 0
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue
    out += input.slice(checkpoint, cursor)
    const {text, isVar, advance} = readVariableName(input.slice(cursor + 1))
    out += isVar ? (vars.get(text) ?? `$(${text})`) : text
    cursor += advance
    checkpoint = cursor + 1
  }
  return out + input.slice(checkpoint)
}

function readVariableName(input: string): {text: string; isVar: boolean; advance: number} {
  if (input[0] === '$') return {text: '$', isVar: false, advance: 1}
  if (input[0] === '(') {
    const close = input.indexOf(')', 1)
    if (close !== -1) return {text: input.slice(1, close), isVar: true, advance: close + 1}
    return {text: '$(', isVar: false, advance: 1}
  }
  return {text: '$' + input[0], isVar: false, advance: 1}
}
