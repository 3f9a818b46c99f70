/** Endpoints: pools, users, ACLs and roles. */
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { AclEntry, Permissions, Pool, PveUser, Realm, Role, type CreateUserOptions, type UpdateAclOptions } from '../types.js';
import { parsePveVersion } from '../version.js';
import { enc } from './base.js';
import { NodesClient } from './nodes.js';

export class AccessClient extends NodesClient {
  // ------------------------------------------------------------------------------------------------ pools

  listPools(): Promise<Pool[]> {
    return this.get('/pools', z.array(Pool));
  }

  /** PVE ≥ 8.1: GET /pools?poolid= (an array of one). `undefined` when the pool does not exist. */
  async getPool(id: string): Promise<Pool | undefined> {
    const r = await this.getOrUndefined('/pools', z.array(Pool), { poolid: id });
    return r?.[0];
  }

  createPool(id: string, comment?: string): Promise<void> {
    return this.voidWrite('POST', '/pools', {
      body: { poolid: id, comment },
      alreadyDone: async () => ((await this.getPool(id)) ? true : undefined),
    });
  }

  addToPool(id: string, vmids: number[], o: { allowMove?: boolean } = {}): Promise<void> {
    return this.voidWrite('PUT', '/pools', {
      body: { poolid: id, vms: vmids.join(','), 'allow-move': o.allowMove },
      alreadyDone: async () => {
        const p = await this.getPool(id);
        const members = new Set((p?.members ?? []).map((m) => m.vmid));
        return vmids.every((v) => members.has(v)) ? true : undefined;
      },
    });
  }

  removeFromPool(id: string, vmids: number[]): Promise<void> {
    return this.voidWrite('PUT', '/pools', {
      body: { poolid: id, vms: vmids.join(','), delete: true },
      alreadyDone: async () => {
        const p = await this.getPool(id);
        const members = new Set((p?.members ?? []).map((m) => m.vmid));
        return vmids.some((v) => members.has(v)) ? undefined : true;
      },
    });
  }

  deletePool(id: string): Promise<void> {
    return this.voidWrite('DELETE', '/pools', {
      query: { poolid: id },
      alreadyDone: async () => ((await this.getPool(id)) ? undefined : true),
    });
  }

  // ------------------------------------------------------------------------------------------------ users

  /** The realms (GET /access/domains, open to anyone) with their types. */
  listRealms(): Promise<Realm[]> {
    return this.get('/access/domains', z.array(Realm));
  }

  listUsers(): Promise<PveUser[]> {
    return this.get('/access/users', z.array(PveUser));
  }

  getUser(id: string): Promise<PveUser | undefined> {
    return this.getOrUndefined(`/access/users/${enc(id)}`, PveUser.omit({ userid: true }).extend({ userid: z.string().optional() })).then(
      (u) => (u ? { ...u, userid: u.userid ?? id } : undefined),
    );
  }

  createUser(o: CreateUserOptions): Promise<void> {
    return this.voidWrite('POST', '/access/users', {
      body: {
        userid: o.userid,
        password: o.password,
        comment: o.comment,
        email: o.email,
        firstname: o.firstname,
        lastname: o.lastname,
        groups: o.groups?.join(','),
        enable: o.enable,
        expire: o.expire,
      },
      alreadyDone: async () => ((await this.getUser(o.userid)) ? true : undefined),
    });
  }

  deleteUser(id: string): Promise<void> {
    return this.voidWrite('DELETE', `/access/users/${enc(id)}`, {
      alreadyDone: async () => ((await this.getUser(id)) ? undefined : true),
    });
  }

  /**
   * PUT /access/password. PVE refuses it for API tokens (403 "need proper ticket"), so this always uses a
   * ticket session from the cluster's user/password, even when a token is configured for everything else.
   */
  async changePassword(userid: string, password: string): Promise<void> {
    if (!this.cluster.user || !this.cluster.password) {
      throw new UserError(
        `cluster ${this.cluster.name}: cannot change the password of ${userid}: Proxmox VE refuses password changes ` +
          `made with an API token; add user and password (e.g. root@pam) for this cluster in connections.yml`,
      );
    }
    const v = this.versionCache ?? (await this.version());
    const pv = parsePveVersion(v.version);
    // Since 8.2 a non-root caller must confirm with its own password; 8.1 rejects the unknown parameter.
    const confirm = pv && (pv.major > 8 || (pv.major === 8 && pv.minor >= 2)) && this.cluster.user !== 'root@pam';
    await this.voidWrite('PUT', '/access/password', {
      auth: 'ticket',
      body: { userid, password, ...(confirm ? { 'confirmation-password': this.cluster.password } : {}) },
      idempotent: true,
    });
  }

  // -------------------------------------------------------------------------------------------- acl/roles

  listAcl(): Promise<AclEntry[]> {
    return this.get('/access/acl', z.array(AclEntry));
  }

  updateAcl(o: UpdateAclOptions): Promise<void> {
    return this.voidWrite('PUT', '/access/acl', {
      body: {
        path: o.path,
        roles: o.roles.join(','),
        users: o.users?.join(','),
        groups: o.groups?.join(','),
        tokens: o.tokens?.join(','),
        propagate: o.propagate,
        delete: o.delete,
      },
      idempotent: true,
    });
  }

  listRoles(): Promise<Role[]> {
    return this.get('/access/roles', z.array(Role));
  }

  createRole(id: string, privs: string[]): Promise<void> {
    return this.voidWrite('POST', '/access/roles', {
      body: { roleid: id, privs: privs.join(',') },
      alreadyDone: async () => ((await this.listRoles()).some((r) => r.roleid === id) ? true : undefined),
    });
  }

  /** Effective privileges of the caller (or `userid`) per path. */
  permissions(o: { path?: string; userid?: string } = {}): Promise<Permissions> {
    return this.get('/access/permissions', Permissions, { path: o.path, userid: o.userid });
  }
}
