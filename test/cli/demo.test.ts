import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('stands demo (npm run demo)', () => {
  it('deploys the example profile for data/users.example.txt on an in-process simulator, shows status and the cleanup', async () => {
    // STANDS_DEMO_TIME_SCALE is how CI keeps the demo short; a person running `npm run demo` gets 0.5.
    const r = await runCli(['demo'], { env: { STANDS_DEMO_TIME_SCALE: '0.02' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pve-stands demo: a simulated Proxmox VE cluster \(3 nodes, time ×0\.02\) at https:\/\/127\.0\.0\.1:\d+\n/);
    expect(r.stdout).toContain('group netlab-demo on sim: 6 stands, 18 VMs (linked clones), profile netlab');
    expect(r.stdout).toContain('succeeded: 6 ready, 0 failed');
    expect(r.stdout).toContain('New users (passwords are shown only now');
    // status: every student of data/users.example.txt, Cyrillic name included, with running VMs
    for (const u of ['student01@pve', 'student02@pve', 'ivanov.ivan@pve', 'petrova.maria@pve', 'иванов.пётр@pve', 'sidorov.alexei@pve']) {
      // one line per stand: user, node, VMIDs, state, console link
      expect(r.stdout).toMatch(new RegExp(`^${u.replace('.', '\\.')} +pve\\d +\\d+–\\d+ +ready, 3 running +https://`, 'm'));
    }
    expect(r.stdout).toContain('Cleaning up is one command: `stands cleanup --group netlab-demo`');
    expect(r.stdout).toContain('Dry run: nothing was removed.');
    expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d job deploy-\S+ finished succeeded: 6 ready, 0 failed$/m);
  }, 120_000);
});
