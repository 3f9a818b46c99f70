/** connections.yml for a running simulator: its API token, its self-signed certificate pinned by fingerprint. */
export function simConnectionsYaml(sim: { url: string; tokenId: string; tokenSecret: string; fingerprint: string }): string {
  return [
    '# written by `stands demo` for its simulator',
    'clusters:',
    '  sim:',
    `    url: ${sim.url}`,
    `    token_id: "${sim.tokenId}"`,
    `    token_secret: "${sim.tokenSecret}"`,
    '    tls:',
    `      fingerprint: "${sim.fingerprint}"`,
    'default: sim',
    '',
  ].join('\n');
}
