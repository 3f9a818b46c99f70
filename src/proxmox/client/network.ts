/** Endpoints: node networks (bridges, apply/revert) and SDN (zones, vnets, apply). */
import { z } from 'zod';
import {
  NetworkIface,
  SdnVnet,
  SdnZone,
  type BridgeOptions,
  type NetworkList,
  type NetworkUpdate,
  type TaskRef,
  type VnetOptions,
  type ZoneOptions,
} from '../types.js';
import { enc } from './base.js';
import { AccessClient } from './access.js';

export class NetworkClient extends AccessClient {
  // ---------------------------------------------------------------------------------------------- network

  /** Interfaces, plus `changes` (the pending diff) when someone has unapplied edits on this node. */
  async listNetwork(node: string, type?: string): Promise<NetworkList> {
    const res = await this.getRaw(`/nodes/${enc(node)}/network`, { type });
    const ifaces = this.parse(z.array(NetworkIface), res.body, 'GET', `/nodes/${node}/network`);
    const changes = res.envelope.changes;
    return { ifaces, ...(typeof changes === 'string' && changes.length > 0 ? { changes } : {}) };
  }

  async bridgeExists(node: string, iface: string): Promise<boolean> {
    return (await this.listNetwork(node)).ifaces.some((i) => i.iface === iface);
  }

  createBridge(node: string, o: BridgeOptions): Promise<void> {
    return this.voidWrite('POST', `/nodes/${enc(node)}/network`, {
      body: {
        iface: o.iface,
        type: 'bridge',
        bridge_ports: o.bridge_ports,
        bridge_vlan_aware: o.bridge_vlan_aware,
        bridge_vids: o.bridge_vids,
        autostart: o.autostart ?? true,
        comments: o.comments,
        cidr: o.cidr,
        gateway: o.gateway,
        mtu: o.mtu,
      },
      alreadyDone: async () => ((await this.bridgeExists(node, o.iface)) ? true : undefined),
    });
  }

  updateNetwork(node: string, iface: string, o: NetworkUpdate): Promise<void> {
    const { delete: del, ...rest } = o;
    return this.voidWrite('PUT', `/nodes/${enc(node)}/network/${enc(iface)}`, {
      body: { type: 'bridge', ...rest, delete: del?.join(',') },
      idempotent: true,
    });
  }

  deleteNetwork(node: string, iface: string): Promise<void> {
    return this.voidWrite('DELETE', `/nodes/${enc(node)}/network/${enc(iface)}`, {
      alreadyDone: async () => ((await this.bridgeExists(node, iface)) ? undefined : true),
    });
  }

  /** Apply pending network changes (ifreload). Applying twice applies nothing new, so it may be repeated. */
  applyNetwork(node: string): Promise<TaskRef> {
    return this.upidWrite('PUT', `/nodes/${enc(node)}/network`, node, 'srvreload', { idempotent: true });
  }

  revertNetwork(node: string): Promise<void> {
    return this.voidWrite('DELETE', `/nodes/${enc(node)}/network`, { idempotent: true });
  }

  // -------------------------------------------------------------------------------------------------- sdn

  listZones(o: { pending?: boolean } = {}): Promise<SdnZone[]> {
    return this.get('/cluster/sdn/zones', z.array(SdnZone), { pending: o.pending });
  }

  createZone(o: ZoneOptions): Promise<void> {
    return this.voidWrite('POST', '/cluster/sdn/zones', {
      body: {
        zone: o.zone,
        type: o.type,
        bridge: o.bridge,
        tag: o.tag,
        mtu: o.mtu,
        nodes: o.nodes?.join(','),
        peers: o.peers?.join(','),
        ipam: o.ipam,
      },
      alreadyDone: async () => ((await this.listZones({ pending: true })).some((z) => z.zone === o.zone) ? true : undefined),
    });
  }

  listVnets(o: { pending?: boolean } = {}): Promise<SdnVnet[]> {
    return this.get('/cluster/sdn/vnets', z.array(SdnVnet), { pending: o.pending });
  }

  createVnet(o: VnetOptions): Promise<void> {
    return this.voidWrite('POST', '/cluster/sdn/vnets', {
      body: { vnet: o.vnet, zone: o.zone, tag: o.tag, alias: o.alias, vlanaware: o.vlanaware },
      alreadyDone: async () => ((await this.listVnets({ pending: true })).some((v) => v.vnet === o.vnet) ? true : undefined),
    });
  }

  deleteVnet(vnet: string): Promise<void> {
    return this.voidWrite('DELETE', `/cluster/sdn/vnets/${enc(vnet)}`, {
      alreadyDone: async () =>
        (await this.listVnets({ pending: true })).some((v) => v.vnet === vnet && v.state !== 'deleted') ? undefined : true,
    });
  }

  applySdn(): Promise<TaskRef> {
    return this.upidWrite('PUT', '/cluster/sdn', '', 'reloadnetworkall', { idempotent: true });
  }
}
