import { describe, expect, it } from 'vitest';
import { hostAddress, normalizeCidr, parseCidr } from '../../src/config/cidr.js';

describe('CIDRs as Proxmox IPSets store them', () => {
  it('normalises: /32 and /128 become the bare address, IPv6 is written in its canonical short form', () => {
    expect(normalizeCidr('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(normalizeCidr(' 192.168.1.7/32 ')).toBe('192.168.1.7');
    expect(normalizeCidr('192.168.1.7')).toBe('192.168.1.7');
    expect(normalizeCidr('2001:DB8:0:0:0:0:0:0/32')).toBe('2001:db8::/32');
    expect(normalizeCidr('2001:db8::1/128')).toBe('2001:db8::1');
    expect(normalizeCidr('fd00:1::/64')).toBe('fd00:1::/64');
  });

  it('refuses what PVE refuses, saying why', () => {
    expect(parseCidr('10.0.0.1/24')).toEqual({ ok: false, message: '"10.0.0.1/24" has host bits set (did you mean 10.0.0.0/24?)' });
    expect(parseCidr('2001:db8::1/64')).toEqual({ ok: false, message: '"2001:db8::1/64" has host bits set (did you mean 2001:db8::/64?)' });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ ok: false, message: expect.stringContaining('Proxmox IPSets refuse /0') });
    expect(parseCidr('10.0.0.0/33')).toMatchObject({ ok: false });
    expect(parseCidr('10.0.0.256')).toMatchObject({ ok: false });
    expect(parseCidr('::ffff:10.0.0.1')).toMatchObject({ ok: false });
    expect(parseCidr('lab-net')).toMatchObject({ ok: false });
  });

  it('an interface address with its prefix gives the host address', () => {
    expect(hostAddress('10.0.0.11/24')).toBe('10.0.0.11');
    expect(hostAddress('fe80::1/64')).toBe('fe80::1');
    expect(hostAddress(undefined)).toBeUndefined();
    expect(hostAddress('dhcp')).toBeUndefined();
  });
});
