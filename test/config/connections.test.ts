import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConnections, normalizeFingerprint, pickCluster } from '../../src/config/connections.js';
import { errorLines, tempConfig, yaml } from './helpers.js';

const FP_LOWER = 'ab'.repeat(32);
const FP = Array(32).fill('AB').join(':');
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

async function dirWith(files: Record<string, string>): Promise<string> {
  const t = await tempConfig(files);
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('connections.yml: our format', () => {
  it('reads the issue 2 example with ${VAR} from the environment', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        clusters:
          lab:
            url: https://pve1.lab.example:8006
            token_id: stands@pve!bot            # API token (preferred) …
            token_secret: \${PVE_TOKEN_SECRET}   # read from the environment
            tls:
              fingerprint: "${FP_LOWER}"
        default: lab
      `),
    });
    const c = await loadConnections(dir, { env: { PVE_TOKEN_SECRET: 'c0ffee-secret' } });
    expect(c).toEqual({
      clusters: {
        lab: {
          name: 'lab',
          url: 'https://pve1.lab.example:8006',
          tokenId: 'stands@pve!bot',
          tokenSecret: 'c0ffee-secret',
          tls: { fingerprint: FP, insecure: false },
          maxInFlight: 6,
        },
      },
      default: 'lab',
      file: join(dir, 'connections.yml'),
    });
    expect(pickCluster(c).name).toBe('lab');
  });

  it('user + password, secrets from files, a CA path relative to the file, several clusters', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        clusters:
          a:
            url: https://10.0.0.1:8006/api2/json/
            user: root@pam
            password_file: secrets/pw
            tls: {ca: ./certs/ca.pem}
            max_in_flight: 2
            console_url: https://pve.example/
          b:
            url: https://10.0.0.2:8006
            token_id: root@pam!stands
            token_secret_file: secrets/token
            tls: {insecure: true}
      `),
      'secrets/pw': 'hunter2\n',
      'secrets/token': 'tok-secret',
      'certs/ca.pem': PEM,
    });
    const c = await loadConnections(dir, { env: {} });
    expect(c.default).toBe('a');
    expect(c.clusters.a).toEqual({
      name: 'a',
      url: 'https://10.0.0.1:8006',
      user: 'root@pam',
      password: 'hunter2',
      tls: { ca: join(dir, 'certs', 'ca.pem'), caPem: PEM, insecure: false },
      maxInFlight: 2,
      consoleUrl: 'https://pve.example',
    });
    expect(c.clusters.b).toMatchObject({ tokenId: 'root@pam!stands', tokenSecret: 'tok-secret', tls: { insecure: true } });
  });

  it('a missing or empty variable names the file, line and variable (and never a value)', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        clusters:
          lab:
            url: \${PVE_URL}
            token_id: stands@pve!bot
            token_secret: \${PVE_TOKEN_SECRET}
      `),
    });
    const file = join(dir, 'connections.yml');
    expect(await errorLines(() => loadConnections(dir, { env: { PVE_URL: 'https://x:8006', PVE_TOKEN_SECRET: '' } }))).toEqual([
      `${file}:5: clusters.lab.token_secret: environment variable PVE_TOKEN_SECRET is not set`,
    ]);
    expect(await errorLines(() => loadConnections(dir, { env: {} }))).toEqual([
      `${file}:3: clusters.lab.url: environment variable PVE_URL is not set`,
      `${file}:5: clusters.lab.token_secret: environment variable PVE_TOKEN_SECRET is not set`,
    ]);
  });

  it('validation: https only, token id format, fingerprint, credentials, files, unknown keys', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        clusters:
          plain:
            url: http://pve:8006
            token_id: stands@pve
            token_secret: s
            tls:
              fingerprint: "AB:CD"
          nocreds:
            url: https://pve:8006
          files:
            url: https://pve:8006
            user: root@pam
            password_file: missing-file
            tls: {ca: nope.pem}
          typo:
            url: https://pve:8006
            tokn_id: a@pve!b
        default: prod
      `),
    });
    const file = join(dir, 'connections.yml');
    expect(await errorLines(() => loadConnections(dir, { env: {} }))).toEqual([
      `${file}:17: clusters.typo.tokn_id: unknown key (did you mean "token_id"?)`,
    ]);
    const dir2 = await dirWith({
      'connections.yml': yaml(`
        clusters:
          plain:
            url: http://pve:8006
            token_id: stands@pve
            token_secret: s
            tls:
              fingerprint: "AB:CD"
          nocreds:
            url: https://pve:8006
          files:
            url: https://pve:8006
            user: root@pam
            password_file: missing-file
            tls: {ca: nope.pem}
        default: prod
      `),
    });
    const file2 = join(dir2, 'connections.yml');
    expect(await errorLines(() => loadConnections(dir2, { env: {} }))).toEqual([
      `${file2}:3: clusters.plain.url: "http://pve:8006": the Proxmox API is only spoken over https://`,
      `${file2}:4: clusters.plain.token_id: "stands@pve" is not a token id (expected user@realm!name, e.g. stands@pve!bot)`,
      `${file2}:7: clusters.plain.tls.fingerprint: expected the sha256 fingerprint: 32 hex bytes such as "AB:CD:…" (pvenode cert info)`,
      `${file2}:8: clusters.nocreds: no credentials: set token_id + token_secret (preferred) or user + password`,
      `${file2}:13: clusters.files.password_file: missing-file: file not found`,
      `${file2}:14: clusters.files.tls.ca: nope.pem: file not found`,
      `${file2}:15: default: no cluster named "prod" (known: plain, nocreds, files)`,
    ]);
  });

  it('insecure is only ever true when written as true', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        clusters:
          a:
            url: https://pve:8006
            token_id: a@pve!t1
            token_secret: s
            tls: {insecure: "yes"}
      `),
    });
    expect(await errorLines(() => loadConnections(dir, { env: {} }))).toEqual([
      `${join(dir, 'connections.yml')}:6: clusters.a.tls.insecure: expected true or false, got "yes"`,
    ]);
  });

  it('an empty file', async () => {
    const dir = await dirWith({ 'connections.yml': '# nothing yet\n' });
    expect(await errorLines(() => loadConnections(dir))).toEqual([
      `${join(dir, 'connections.yml')}: empty file: expected "clusters:" with at least one cluster`,
    ]);
    expect(await errorLines(() => loadConnections(join(dir, 'nowhere')))).toEqual([`${join(dir, 'nowhere', 'connections.yml')}: file not found`]);
  });
});

describe('connections.yml: the seed formats', () => {
  it('the design document: host "ip:8006", user + password, or use_token + token_name + token_value', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        "prod-cluster":
          host: "192.168.1.100:8006"
          user: "root@pam"
          password: "secret"
        "dev-cluster":
          host: "192.168.1.101"
          user: "admin@pve"
          use_token: true
          token_name: "deploy-script"
          token_value: "xxxxxxxx-1234"
          verify_ssl: false
      `),
    });
    const c = await loadConnections(dir, { env: {} });
    expect(c.default).toBe('prod-cluster');
    expect(c.clusters['prod-cluster']).toEqual({
      name: 'prod-cluster',
      url: 'https://192.168.1.100:8006',
      user: 'root@pam',
      password: 'secret',
      tls: { insecure: false },
      maxInFlight: 6,
    });
    expect(c.clusters['dev-cluster']).toEqual({
      name: 'dev-cluster',
      url: 'https://192.168.1.101:8006',
      tokenId: 'admin@pve!deploy-script',
      tokenSecret: 'xxxxxxxx-1234',
      tls: { insecure: true },
      maxInFlight: 6,
    });
  });

  it('lazy_teacher: host + port + login + token in its forms, or login + password', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        full:
          host: 10.0.0.5
          port: 8006
          token: "root@pam!deploy=aaaa-bbbb"
        short:
          host: 10.0.0.6
          port: "8007"
          login: root@pam
          token: "deploy=cccc"
        bare:
          host: 10.0.0.7
          login: "root@pam!deploy"
          token: "dddd"
        pw:
          host: 10.0.0.8
          port: 8006
          login: root@pam
          password: pw
      `),
    });
    const c = await loadConnections(dir, { env: {} });
    expect(c.clusters.full).toMatchObject({ url: 'https://10.0.0.5:8006', tokenId: 'root@pam!deploy', tokenSecret: 'aaaa-bbbb' });
    expect(c.clusters.short).toMatchObject({ url: 'https://10.0.0.6:8007', tokenId: 'root@pam!deploy', tokenSecret: 'cccc' });
    expect(c.clusters.bare).toMatchObject({ url: 'https://10.0.0.7:8006', tokenId: 'root@pam!deploy', tokenSecret: 'dddd' });
    expect(c.clusters.pw).toMatchObject({ url: 'https://10.0.0.8:8006', user: 'root@pam', password: 'pw' });
  });

  it('seed-format mistakes get line-numbered errors too', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        a:
          host: "10.0.0.1:8006"
          user: admin@pve
          use_token: true
          token_nme: x
        b:
          host: 10.0.0.2
          token: "just-a-secret"
        c:
          host: "10.0.0.3:8006"
          port: 8006
          user: u@pve
          password: p
      `),
    });
    const file = join(dir, 'connections.yml');
    expect(await errorLines(() => loadConnections(dir, { env: {} }))).toEqual([
      `${file}:5: a.token_nme: unknown key (did you mean "token_name"?)`,
    ]);
    const dir2 = await dirWith({
      'connections.yml': yaml(`
        a:
          host: "10.0.0.1:8006"
          user: admin@pve
          use_token: true
        b:
          host: 10.0.0.2
          token: "just-a-secret"
        c:
          host: "10.0.0.3:8006"
          port: 8006
          user: u@pve
          password: p
      `),
    });
    const file2 = join(dir2, 'connections.yml');
    expect(await errorLines(() => loadConnections(dir2, { env: {} }))).toEqual([
      `${file2}:1: a.token_name: required key is missing (use_token is true)`,
      `${file2}:7: b.token: cannot tell the token id: write token as "user@realm!name=secret", or set login: user@realm!name`,
      `${file2}:10: c.port: the port is given twice (in host and in port)`,
    ]);
  });
});

describe('normalizeFingerprint', () => {
  it('accepts any case, with or without colons or a sha256 prefix', () => {
    expect(normalizeFingerprint(FP_LOWER)).toBe(FP);
    expect(normalizeFingerprint(`sha256:${FP.toLowerCase()}`)).toBe(FP);
    expect(normalizeFingerprint('AB:CD')).toBeUndefined();
    expect(normalizeFingerprint('zz'.repeat(32))).toBeUndefined();
  });
});

describe('secrets in errors', () => {
  it('a password or secret of the wrong type is not echoed', async () => {
    const dir = await dirWith({
      'connections.yml': yaml(`
        clusters:
          lab:
            url: https://pve:8006
            user: root@pam
            password: 918273645
            token_id: root@pam!t1
            token_secret: 55555
      `),
    });
    const lines = await errorLines(() => loadConnections(dir, { env: {} }));
    expect(lines).toEqual([
      `${join(dir, 'connections.yml')}:5: clusters.lab.password: expected a string: put the value in quotes`,
      `${join(dir, 'connections.yml')}:7: clusters.lab.token_secret: expected a string: put the value in quotes`,
    ]);
    expect(lines.join('\n')).not.toMatch(/918273645|55555/);
  });
});

describe('connections.yml: a misspelt clusters key', () => {
  it('is not mistaken for a seed-format cluster', async () => {
    const dir = await dirWith({
      'connections.yml': 'cluster:\n  lab:\n    url: https://pve:8006\n    token_id: a@pve!t1\n    token_secret: s\n',
    });
    expect(await errorLines(() => loadConnections(dir, { env: {} }))).toEqual([
      `${join(dir, 'connections.yml')}:1: cluster: unknown key (did you mean "clusters"?)`,
    ]);
  });
});

describe('connections.yml: seed clusters named like "clusters"', () => {
  it('a seed entry called cluster1 (with a host) is a cluster', async () => {
    const dir = await dirWith({ 'connections.yml': 'cluster1:\n  host: 10.0.0.1\n  user: root@pam\n  password: pw\n' });
    expect((await loadConnections(dir, { env: {} })).clusters.cluster1!.url).toBe('https://10.0.0.1:8006');
  });
});
