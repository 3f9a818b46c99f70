import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSubset, DEFAULT_SCHEMA_PATH, SIMULATED_ENDPOINTS, SUBSET_PATH } from '../../scripts/gen-schema-subset.js';
import { createRouter } from '../../src/sim/handlers/index.js';
import { SCHEMA } from '../../src/sim/schema-validate.js';

const haveSchema = existsSync(DEFAULT_SCHEMA_PATH);

describe('committed schema subset', () => {
  it('covers exactly the simulated endpoints and carries its provenance', () => {
    expect(Object.keys(SCHEMA.endpoints).sort()).toEqual([...SIMULATED_ENDPOINTS].sort());
    expect(SCHEMA.provenance).toMatchObject({ source: 'pve-9.1-apischema.json', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(SCHEMA.provenance.license).toContain('AGPL-3.0');
  });

  it.skipIf(!haveSchema)('matches a fresh generation from ../shared/pve-api/pve-9.1-apischema.json', () => {
    const text = readFileSync(DEFAULT_SCHEMA_PATH, 'utf8');
    const committed = JSON.parse(readFileSync(SUBSET_PATH, 'utf8'));
    const fresh = buildSubset(text, 'pve-9.1-apischema.json', committed.provenance.generated);
    expect(committed).toEqual(JSON.parse(JSON.stringify(fresh)));
  });

  it('the simulator routes exactly the endpoints of the subset', () => {
    expect(createRouter().routes()).toEqual([...SIMULATED_ENDPOINTS].sort());
  });
});
